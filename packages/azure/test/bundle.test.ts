import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
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
    // The messaging SDKs (optional peers, installed here as dev dependencies) are reached only through
    // the dynamic imports in messaging.ts: evaluated on the first send, never at cold start.
    const edges = Object.entries(result.metafile.inputs).flatMap(([from, input]) =>
      input.imports
        .filter((edge) => /@azure\/(storage-queue|event-hubs)(\/|$)/.test(edge.original ?? ""))
        .map((edge) => ({ from, kind: edge.kind })),
    );
    expect(edges.length).toBeGreaterThan(0);
    expect(new Set(edges.map((edge) => `${edge.from.replace(/^.*packages\//, "")} ${edge.kind}`))).toEqual(
      new Set(["azure/src/messaging.ts dynamic-import"]),
    );
  });

  it("bundles neither messaging SDK for a function without stream or queue destinations in an app that does not install them", async () => {
    // An app without the optional peers: esbuild cannot resolve them and leaves each import() as it is
    // (it does not fail the build), which this plugin reproduces for packages that are installed here.
    const notInstalled: Plugin = {
      name: "optional-peers-not-installed",
      setup(builder) {
        builder.onResolve({ filter: /^@azure\/(storage-queue|event-hubs)$/ }, (args) => ({ path: args.path, external: true }));
      },
    };
    const result = await build({
      entryPoints: [here("../../../examples/sensor-pipeline/src/azure.ts")],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      write: false,
      metafile: true,
      logLevel: "silent",
      external: ["@azure/functions-core"],
      plugins: [workspaceSources, notInstalled],
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(
      inputs.filter((input) => input.includes("@azure/storage-queue") || input.includes("@azure/event-hubs") || input.includes("rhea")),
    ).toEqual([]);
    const code = result.outputFiles[0]?.text ?? "";
    expect(code).toMatch(/import\(\s*"@azure\/storage-queue"\s*\)/);
    expect(code).toMatch(/import\(\s*"@azure\/event-hubs"\s*\)/);
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

  it("loads the Blob, Storage Queue and Event Hubs SDKs and @azure/identity only through dynamic imports, so functions that never use them do not pay for them", async () => {
    for (const file of ["index.mjs", "index.cjs"]) {
      const code = await readFile(join(dir, file), "utf8");
      for (const sdk of ["storage-blob", "identity", "storage-queue", "event-hubs"]) {
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

describe("optional messaging SDKs that are not installed", () => {
  it("fail the send for good with an error that names the package to install", async () => {
    // Outside the workspace, where neither @azure/storage-queue nor @azure/event-hubs can be found.
    const dir = await mkdtemp(join(tmpdir(), "sluice-no-sdk-"));
    try {
      await build({
        entryPoints: [join(packageRoot, "src/messaging.ts")],
        bundle: true,
        platform: "node",
        format: "esm",
        target: "node20",
        outfile: join(dir, "messaging.mjs"),
        external: ["@azure/storage-queue", "@azure/event-hubs", "@azure/identity"],
        plugins: [workspaceSources],
        logLevel: "silent",
      });
      await writeFile(
        join(dir, "check.mjs"),
        `import { AzureMessaging } from "./messaging.mjs";
const messaging = new AzureMessaging({ env: { AzureWebJobsStorage: "UseDevelopmentStorage=true", EventHubsConnection: "Endpoint=sb://x/;SharedAccessKeyName=k;SharedAccessKey=a" } });
const message = { body: new Uint8Array([1]), attributes: {} };
for (const kind of ["queue", "stream"]) console.log(JSON.stringify(await messaging.send({ kind, name: "jobs" }, [message])));
`,
      );
      const { stdout } = await run(process.execPath, [join(dir, "check.mjs")], { cwd: dir });
      expect(
        stdout
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line)),
      ).toEqual([
        {
          failed: [
            {
              index: 0,
              reason: "azure Storage Queue: dependencies: install @azure/storage-queue to send to Storage Queues",
              retryable: false,
            },
          ],
        },
        {
          failed: [
            { index: 0, reason: "azure Event Hubs: dependencies: install @azure/event-hubs to send to Event Hubs", retryable: false },
          ],
        },
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
