import { defineProject } from "vitest/config";
import { sourceAliases } from "../../vitest.shared.js";

export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    name: "artifacts",
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/build-packages.ts"],
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
