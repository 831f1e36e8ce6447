import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build, type Plugin } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const packageRoot = here("../");

/** Resolves the workspace packages to their sources, as the vitest aliases do, so no build is needed first. */
const workspaceSources: Plugin = {
  name: "workspace-sources",
  setup(builder) {
    builder.onResolve({ filter: /^@sluice\/(core|azure|local)$/ }, (args) => ({
      path: here(`../../${args.path.slice("@sluice/".length)}/src/index.ts`),
    }));
  },
};

describe("bundles", () => {
  it("bundles the sensor pipeline's Azure entry without any AWS or Google Cloud code", async () => {
    const result = await build({
      entryPoints: [here("../../../examples/sensor-pipeline/src/azure.ts")],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      write: false,
      metafile: true,
      logLevel: "silent",
      // Provided by the Functions worker at run time, never installed: every Azure bundle must leave it out.
      external: ["@azure/functions-core"],
      plugins: [workspaceSources],
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((input) => input.includes("@aws-sdk/") || input.includes("@google-cloud/"))).toEqual([]);
    // The metafile is the real one: the Azure libraries and the example are in it.
    expect(inputs.some((input) => input.includes("@azure/functions/"))).toBe(true);
    expect(inputs.some((input) => input.includes("@azure/storage-blob/"))).toBe(true);
    expect(inputs.some((input) => input.endsWith("examples/sensor-pipeline/src/function.ts"))).toBe(true);
  });
});

describe("the package in plain Node, outside vitest", () => {
  let dir: string;
  beforeAll(async () => {
    // Inside the package, so that Node resolves @azure/* from its node_modules as an installed package would.
    dir = await mkdtemp(join(packageRoot, ".node-check-"));
    for (const format of ["esm", "cjs"] as const) {
      await build({
        entryPoints: [join(packageRoot, "src/index.ts")],
        bundle: true,
        platform: "node",
        format,
        target: "node20",
        outfile: join(dir, format === "esm" ? "index.mjs" : "index.cjs"),
        packages: "external",
        plugins: [workspaceSources],
        logLevel: "silent",
      });
    }
    const script = (load: string) => `${load}
const fn = core.defineFunction({ name: "hello", trigger: core.triggers.http(), handler: async (event) => ({ hello: event.query.name }) });
const handler = azure.toAzureFunction(fn, { log: core.silentLogger });
const request = new functions.HttpRequest({ method: "GET", url: "https://x.azurewebsites.net/api/hi?name=node" });
const answer = await handler(request, new functions.InvocationContext({ invocationId: "1", functionName: "hello" }));
console.log(JSON.stringify(answer));
`;
    await writeFile(
      join(dir, "check.mjs"),
      script('import * as azure from "./index.mjs"; import functions from "@azure/functions"; const core = await import("./core.mjs");'),
    );
    await writeFile(
      join(dir, "check.cjs"),
      `(async () => {\n${script('const azure = require("./index.cjs"); const functions = require("@azure/functions"); const core = require("./core.cjs");')}
console.log(JSON.stringify({ storageBlobLoaded: Object.keys(require.cache).some((path) => path.includes("@azure/storage-blob")) }));\n})();`,
    );
    for (const format of ["esm", "cjs"] as const) {
      await build({
        entryPoints: [here("../../core/src/index.ts")],
        bundle: true,
        platform: "node",
        format,
        target: "node20",
        outfile: join(dir, format === "esm" ? "core.mjs" : "core.cjs"),
        logLevel: "silent",
      });
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const file of ["check.mjs", "check.cjs"]) {
    it(`registers and answers a request when loaded as ${file.endsWith("mjs") ? "ESM" : "CommonJS"}`, async () => {
      const { stdout } = await run(process.execPath, [join(dir, file)], { cwd: dir });
      const lines = stdout.trim().split("\n");
      const answer = lines.find((line) => line.startsWith('{"status"'));
      expect(JSON.parse(answer as string)).toMatchObject({ status: 200, body: '{"hello":"node"}' });
      // An HTTP function never touches the store, so the Blob SDK (hundreds of ms to load) stays unloaded.
      if (file.endsWith("cjs")) expect(JSON.parse(lines.at(-1) as string)).toEqual({ storageBlobLoaded: false });
    });
  }
});
