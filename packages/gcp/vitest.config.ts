import { defineProject } from "vitest/config";
import { sourceAliases } from "../../vitest.shared.js";

export default defineProject({
  resolve: { alias: sourceAliases },
  test: {
    name: "gcp",
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    // The Cloud Storage emulator and the framework's test servers are real servers: allow for a slow machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
