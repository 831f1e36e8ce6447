/**
 * Sluice as a user's build runs it: every package bundled from source by esbuild into one ES module,
 * without `keepNames`. The per-invocation benchmarks import this instead of the sources through tsx:
 * tsx transforms with `keepNames`, which wraps every named function and closure in `__name(…)`, an
 * `Object.defineProperty` per closure made at run time. Neither the published builds (tsup) nor a
 * user's esbuild bundle do that, and the anchors run from their published builds.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../../", import.meta.url));
const src = (pkg: string) => join(root, "packages", pkg, "src/index.ts");

type Sluice = typeof import("@sluice/core") &
  Pick<typeof import("@sluice/aws"), "toLambda"> &
  Pick<typeof import("@sluice/gcp"), "toCloudFunction"> &
  Pick<typeof import("@sluice/azure"), "toAzureFunction"> &
  Pick<typeof import("@sluice/local"), "LocalObjectStore">;

let loaded: Promise<Sluice> | undefined;

export function loadSluice(): Promise<Sluice> {
  loaded ??= (async () => {
    // Inside bench/node_modules, so that the external packages resolve from there at run time.
    const outfile = join(root, "bench/node_modules/.sluice-bench", `sluice-${process.pid}.mjs`);
    await build({
      stdin: {
        contents: [
          'export * from "@sluice/core";',
          'export { toLambda } from "@sluice/aws";',
          'export { toCloudFunction } from "@sluice/gcp";',
          'export { toAzureFunction } from "@sluice/azure";',
          'export { LocalObjectStore } from "@sluice/local";',
        ].join("\n"),
        resolveDir: root,
        loader: "ts",
        sourcefile: "sluice-bench-entry.ts",
      },
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      outfile,
      // The SDKs and the Azure host library stay what they are: packages resolved from bench/node_modules.
      external: ["@aws-sdk/*", "@smithy/*", "@google-cloud/*", "@azure/*"],
      alias: {
        "@sluice/core": src("core"),
        "@sluice/aws": src("aws"),
        "@sluice/gcp": src("gcp"),
        "@sluice/azure": src("azure"),
        "@sluice/local": src("local"),
      },
      logLevel: "error",
    });
    process.once("exit", () => rmSync(outfile, { force: true }));
    return (await import(pathToFileURL(outfile).href)) as Sluice;
  })();
  return loaded;
}
