import { defineConfig } from "tsup";

// The library part is ESM and CJS; the command itself is ESM (it uses top-level await).
export default defineConfig([
  { entry: { index: "src/index.ts" }, format: ["esm", "cjs"], dts: true, sourcemap: true, target: "node20" },
  { entry: { bin: "src/bin.ts" }, format: ["esm"], sourcemap: true, target: "node20", banner: { js: "#!/usr/bin/env node" } },
]);
