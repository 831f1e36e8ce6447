import { fileURLToPath } from "node:url";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * Tests run against the packages' sources, not their build output, so `pnpm test` needs no build step.
 * The order matters: `@sluice/core/testing` must match before `@sluice/core`.
 */
export const sourceAliases = [
  { find: /^@sluice\/core\/testing$/, replacement: here("./packages/core/src/testing/index.ts") },
  { find: /^@sluice\/core$/, replacement: here("./packages/core/src/index.ts") },
  { find: /^@sluice\/aws$/, replacement: here("./packages/aws/src/index.ts") },
  { find: /^@sluice\/gcp$/, replacement: here("./packages/gcp/src/index.ts") },
  { find: /^@sluice\/azure$/, replacement: here("./packages/azure/src/index.ts") },
  { find: /^@sluice\/local$/, replacement: here("./packages/local/src/index.ts") },
  { find: /^@sluice\/cli$/, replacement: here("./packages/cli/src/index.ts") },
];
