import type { ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { buildWithLayer, type LayerBuildResult, loadEntry } from "@sluice/cli";
import { unzipSync } from "fflate";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFromEnv, createRollUpHourly } from "../../../examples/sensor-pipeline/src/function.js";
import { generateFirehoseFiles } from "../../../examples/sensor-pipeline/src/generate.js";
import { s3rverClient, startS3rver } from "../../../tools/emulators/src/index.js";
import { LambdaRuntimeApi, runtimeClientBuilt, startRuntimeClient } from "./lambda-runtime-api.js";

const entry = new URL("../../../examples/sensor-pipeline/src/function.ts", import.meta.url).pathname;
const example = dirname(dirname(entry));

let scratch: string;
let s3: Awaited<ReturnType<typeof startS3rver>>;
let built: LayerBuildResult;
const emitted: any[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "sluice-artifact-aws-layer-"));
  s3 = await startS3rver();
  s3.server.on("event", (event: unknown) => emitted.push(event));
  // Both stages of the pipeline, with the defaults a user gets: the shared packages in the layer, and
  // the AWS SDK not bundled (the stages share it, so it is in the layer, at the version installed here).
  built = await buildWithLayer({ entry, fns: await loadEntry(entry), out: join(scratch, "build") });
});
afterAll(async () => {
  await s3?.stop();
  await rm(scratch, { recursive: true, force: true });
});

const unzip = async (path: string) => unzipSync(new Uint8Array(await readFile(path)));

async function unpack(zip: string, into: string): Promise<string> {
  for (const [name, bytes] of Object.entries(await unzip(zip))) {
    await mkdir(dirname(join(into, name)), { recursive: true });
    await writeFile(join(into, name), bytes);
  }
  return into;
}

/**
 * The version installed for the example of the last package in a chain of dependents (the SDK as
 * @sluice/aws resolves it, and so on), found the way Node finds packages: each from the real directory
 * of the one before, without NODE_PATH (which pnpm sets for scripts).
 */
function installedVersion(...chain: string[]): string {
  let dir = example;
  for (const name of chain) {
    for (let at = dir; ; at = dirname(at)) {
      const candidate = join(at, "node_modules", name);
      if (existsSync(join(candidate, "package.json"))) {
        dir = realpathSync(candidate);
        break;
      }
      if (dirname(at) === at) throw new Error(`${name} is not installed for ${dir}`);
    }
  }
  return (JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { version: string }).version;
}

async function waitForEvent(bucket: string, key: string): Promise<unknown> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const event = emitted.find((item) => item.Records?.[0]?.s3?.bucket?.name === bucket && item.Records?.[0]?.s3?.object?.key === key);
    if (event) return event;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`s3rver emitted no event for ${bucket}/${key}`);
}

/** Runs a task folder under aws-lambda-ric; `answer` races the client's own exit so a dead client fails at once. */
async function withRuntimeClient<T>(
  task: string,
  env: Record<string, string>,
  use: (api: LambdaRuntimeApi, exited: Promise<never>, output: () => string) => Promise<T>,
): Promise<T> {
  const api = new LambdaRuntimeApi();
  await api.start();
  const child: ChildProcess = startRuntimeClient(task, "index.handler", api.port, {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${s3.port}`,
    // s3rver stores aws-chunked framing as the object unless checksums are only sent when required.
    AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
    AWS_RESPONSE_CHECKSUM_VALIDATION: "WHEN_REQUIRED",
    SLUICE_LOG_LEVEL: "error",
    ...env,
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<never>((_resolve, reject) =>
    child.once("exit", (code, signal) => reject(new Error(`aws-lambda-ric exited (${code ?? signal}):\n${output}`))),
  );
  exited.catch(() => undefined); // the kill in `finally` also ends it, after the answer
  try {
    return await use(api, exited, () => output);
  } finally {
    child.kill();
    await api.stop();
  }
}

describe("sluice build --target aws --layer on the two-stage sensor pipeline", () => {
  it("writes a CommonJS zip per stage holding only the example's own code, and layer.zip holding the rest", async () => {
    expect(built.functions.map((fn) => fn.functionName)).toEqual(["analyze-sensors", "roll-up-hourly"]);
    for (const fn of built.functions) {
      expect(fn.entryPoint).toBe("index.handler");
      const files = await unzip(fn.artifact);
      expect(Object.keys(files).sort()).toEqual(["index.js", "index.js.map"]);
      const code = new TextDecoder().decode(files["index.js"]);
      // The bundle requires Sluice by name (the layer provides it) and holds none of it.
      expect(code).toMatch(/require\("@sluice\/aws"\)/);
      // Every source the bundle was made from is the example's own: nothing from node_modules, nothing
      // from Sluice's packages, no SDK.
      const { sources } = JSON.parse(new TextDecoder().decode(files["index.js.map"])) as { sources: string[] };
      expect(sources.length).toBeGreaterThan(0);
      expect(sources.filter((source) => !source.includes("examples/sensor-pipeline/src/") && source !== "sluice-entry.js")).toEqual([]);
      expect(built.bundled[fn.functionName]).toEqual([]);
    }
    expect(built.runtime).toEqual([]);

    const layer = await unzip(built.layer.artifact);
    const paths = Object.keys(layer);
    expect(paths.every((path) => path.startsWith("nodejs/node_modules/"))).toBe(true);
    // What both stages import, each with its package.json (the resolver reads `exports` and `main`),
    // at the version installed in the example's project.
    for (const chain of [
      ["@sluice/aws"],
      ["@sluice/core"],
      ["@sluice/aws", "@aws-sdk/client-s3"],
      ["@sluice/aws", "@aws-sdk/lib-storage"],
      ["@sluice/aws", "@aws-sdk/client-s3", "@smithy/core"],
    ]) {
      const name = chain.at(-1) as string;
      const manifest = layer[`nodejs/node_modules/${name}/package.json`];
      expect(manifest, name).toBeDefined();
      expect(JSON.parse(new TextDecoder().decode(manifest)).version, name).toBe(installedVersion(...chain));
    }
    // Production files only: no type declarations, no workspace sources or tests, no other cloud.
    expect(paths.filter((path) => /\.d\.[cm]?ts$/.test(path))).toEqual([]);
    expect(paths.filter((path) => /^nodejs\/node_modules\/@sluice\/[^/]+\/(src|test|node_modules)\//.test(path))).toEqual([]);
    expect(paths.filter((path) => /@google-cloud|@azure|\/vitest\/|\/esbuild\//.test(path))).toEqual([]);
    expect(built.layer.nativeFiles).toEqual([]);
    expect(built.layer.packages.filter((item) => item.chosen).every((item) => item.usedBy.length === 2)).toBe(true);
  });

  // Skipped only off CI: where CI=true (as .ci/run runs), a runtime client that did not build fails here.
  describe.skipIf(!runtimeClientBuilt() && !process.env.CI)("under aws-lambda-ric, with the layer unpacked where /opt would be", () => {
    let opt: string;
    const tasks: Record<string, string> = {};
    beforeAll(async () => {
      opt = await unpack(built.layer.artifact, join(scratch, "opt"));
      for (const fn of built.functions) tasks[fn.functionName] = await unpack(fn.artifact, join(scratch, "task", fn.functionName));
    });
    // Lambda sets NODE_PATH to /opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:…
    // (https://docs.aws.amazon.com/lambda/latest/dg/packaging-layers.html#packaging-layers-paths); here
    // only the layer is on it, so nothing can come from this machine's node_modules.
    const withLayer = () => ({ NODE_PATH: join(opt, "nodejs", "node_modules") });

    it("each stage fails to load without the layer, so the next test cannot pass by accident", async () => {
      for (const [name, task] of Object.entries(tasks)) {
        const error = await withRuntimeClient(task, { AWS_LAMBDA_FUNCTION_NAME: name }, (api, exited) =>
          Promise.race([api.initError, exited]),
        );
        expect(error).toMatchObject({ errorType: "Runtime.ImportModuleError" });
        expect((error as { errorMessage: string }).errorMessage).toMatch(/Cannot find module '@sluice\/(aws|core)'/);
      }
    });

    it("runs both stages: s3rver's event into analyze-sensors, its report's event into roll-up-hourly, roll-up in s3rver", async () => {
      const config = configFromEnv({});
      const client = s3rverClient(s3.port);
      const file = generateFirehoseFiles({ sensors: 5, hours: 0.25, badLineRate: 0.02, seed: 33 }).next().value;
      if (!file) throw new Error("no file generated");
      await client.send(new PutObjectCommand({ Bucket: config.rawBucket, Key: file.key, Body: file.body }));
      const rawEvent = await waitForEvent(config.rawBucket, file.key);

      await withRuntimeClient(
        tasks["analyze-sensors"] as string,
        { ...withLayer(), AWS_LAMBDA_FUNCTION_NAME: "analyze-sensors" },
        async (api, exited, output) => {
          const answer = await Promise.race([api.invoke("req-layer-1", rawEvent), exited]);
          expect(answer, output()).toMatchObject({ kind: "response" });
        },
      );
      const reportKey = `reports/${file.key}.json`;
      const report = JSON.parse(
        (await (await client.send(new GetObjectCommand({ Bucket: config.reportBucket, Key: reportKey }))).Body?.transformToString()) ??
          "null",
      );
      expect([report.readings, report.badLines]).toEqual([file.readings, file.badLines]);

      const reportEvent = await waitForEvent(config.reportBucket, reportKey);
      await withRuntimeClient(
        tasks["roll-up-hourly"] as string,
        { ...withLayer(), AWS_LAMBDA_FUNCTION_NAME: "roll-up-hourly" },
        async (api, exited, output) => {
          const answer = await Promise.race([api.invoke("req-layer-2", reportEvent), exited]);
          expect(answer, output()).toMatchObject({ kind: "response" });
        },
      );
      const destination = createRollUpHourly(config).destination as unknown as { key: (args: unknown) => string };
      const rollUpKey = destination.key({ event: { key: reportKey } });
      const rollUp = JSON.parse(
        (await (await client.send(new GetObjectCommand({ Bucket: config.reportBucket, Key: rollUpKey }))).Body?.transformToString()) ??
          "null",
      );
      expect(rollUp).toMatchObject({ reports: [reportKey], readings: file.readings, badLines: file.badLines });
    });

    it("why the bundles are CommonJS: an ES module handler cannot import the layer's packages by name", async () => {
      // Node's ES module resolver ignores NODE_PATH (https://nodejs.org/api/esm.html#no-node_path), so
      // the same import that require() finds through the layer is not found from an .mjs handler.
      const task = join(scratch, "task", "esm-probe");
      await mkdir(task, { recursive: true });
      await writeFile(
        join(task, "index.mjs"),
        'import { defineFunction } from "@sluice/core";\nexport const handler = async () => typeof defineFunction;\n',
      );
      const error = await withRuntimeClient(task, withLayer(), (api, exited) => Promise.race([api.initError, exited]));
      expect(JSON.stringify(error)).toMatch(/Cannot find package '@sluice\/core'/);

      await rm(join(task, "index.mjs"));
      await writeFile(
        join(task, "index.js"),
        'const { defineFunction } = require("@sluice/core");\nexports.handler = async () => typeof defineFunction;\n',
      );
      const answer = await withRuntimeClient(task, withLayer(), (api, exited) => Promise.race([api.invoke("req-cjs-probe", {}), exited]));
      expect(answer).toMatchObject({ kind: "response", body: "function" });
    });
  });
});
