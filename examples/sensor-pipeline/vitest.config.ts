import { defineProject } from "vitest/config";
import { sourceAliases } from "../../vitest.shared.js";

export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    name: "sensor-pipeline",
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/build-packages.ts"],
    hookTimeout: 240_000,
  },
});
