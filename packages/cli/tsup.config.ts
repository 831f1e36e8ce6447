import { defineConfig } from "tsup";

// ESM only: the command line is run, not imported by CommonJS projects.
export default defineConfig([
  { entry: { index: "src/index.ts" }, format: ["esm"], dts: true, sourcemap: true, clean: true, target: "node20" },
  { entry: { bin: "src/bin.ts" }, format: ["esm"], sourcemap: true, target: "node20", banner: { js: "#!/usr/bin/env node" } },
]);
