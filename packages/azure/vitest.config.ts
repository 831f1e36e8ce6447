import { defineProject } from "vitest/config";
import { sourceAliases } from "../../vitest.shared.js";

export default defineProject({
  resolve: { alias: sourceAliases },
  test: { name: "azure", include: ["test/**/*.test.ts"], globalSetup: ["test/global-setup.ts"], testTimeout: 30_000 },
});
