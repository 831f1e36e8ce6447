import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
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
const client = await new azure.BlobObjectStore({ env: { AzureWebJobsStorage: "UseDevelopmentStorage=true" } }).client();
console.log(JSON.stringify({ lazyClient: client.url }));
`;
    await writeFile(
      join(dir, "check.mjs"),
      script('import * as azure from "./index.mjs"; import functions from "@azure/functions"; const core = await import("./core.mjs");'),
    );
    await writeFile(
      join(dir, "check.cjs"),
      `(async () => {\n${script('const azure = require("./index.cjs"); const functions = require("@azure/functions"); const core = require("./core.cjs");')}\n})();`,
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

  it("loads the Blob SDK and @azure/identity only through dynamic imports, so functions that never use the store do not pay for them", async () => {
    for (const file of ["index.mjs", "index.cjs"]) {
      const code = await readFile(join(dir, file), "utf8");
      for (const sdk of ["storage-blob", "identity"]) {
        expect([file, sdk, new RegExp(`(?:from\\s*|require\\(\\s*)["']@azure/${sdk}["']`).test(code)]).toEqual([file, sdk, false]);
        expect([file, sdk, new RegExp(`import\\(\\s*["']@azure/${sdk}["']\\s*\\)`).test(code)]).toEqual([file, sdk, true]);
      }
    }
  });

  for (const file of ["check.mjs", "check.cjs"]) {
    it(`registers and answers a request when loaded as ${file.endsWith("mjs") ? "ESM" : "CommonJS"}`, async () => {
      const { stdout } = await run(process.execPath, [join(dir, file)], { cwd: dir });
      const lines = stdout.trim().split("\n");
      const answer = lines.find((line) => line.startsWith('{"status"'));
      expect(lines.every((line) => line.startsWith("{"))).toBe(true);
      expect(JSON.parse(answer as string)).toMatchObject({ status: 200, body: '{"hello":"node"}' });
      // The Blob SDK is loaded when the store is first used, in either module format.
      expect(lines.map((line) => JSON.parse(line)).find((line) => "lazyClient" in line)).toEqual({
        lazyClient: "http://127.0.0.1:10000/devstoreaccount1",
      });
    });
  }
});
