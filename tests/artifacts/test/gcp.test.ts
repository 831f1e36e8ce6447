import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Storage } from "@google-cloud/storage";
import { buildFunction, loadEntry } from "@sluice/cli";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFromEnv } from "../../../examples/sensor-pipeline/src/function.js";
import { generateFirehoseFiles } from "../../../examples/sensor-pipeline/src/generate.js";
import { finalizedCloudEventRequest, type GcsEmulator, startGcsEmulator } from "../../../tools/emulators/src/index.js";

const entry = new URL("../../../examples/sensor-pipeline/src/function.ts", import.meta.url).pathname;
const require = createRequire(import.meta.url);
// The package's exports hide package.json: find its folder from its main file.
const frameworkMain = require.resolve("@google-cloud/functions-framework");
const frameworkDir = frameworkMain.slice(0, frameworkMain.indexOf("/build/"));

let scratch: string;
let emulator: GcsEmulator;
let framework: ChildProcess | undefined;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "sluice-artifact-gcp-"));
  emulator = await startGcsEmulator();
});
afterAll(async () => {
  framework?.kill();
  await emulator?.stop();
  await rm(scratch, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

describe("sluice build --target gcp", () => {
  it("lists the Pub/Sub client, pinned, for a function that sends to a stream (the adapter loads it on first send, unbundled)", async () => {
    const streamEntry = new URL("./fixtures/stream-entry.ts", import.meta.url).pathname;
    const [fn] = await loadEntry(streamEntry);
    const out = join(scratch, "fan-out");
    await buildFunction({ entry: streamEntry, fn: fn as NonNullable<typeof fn>, target: "gcp", out });
    const manifest = JSON.parse(await readFile(join(out, "package.json"), "utf8"));
    const pubsubVersion = JSON.parse(
      await readFile(require.resolve("../../../packages/gcp/node_modules/@google-cloud/pubsub/package.json"), "utf8"),
    ).version;
    expect(manifest.dependencies).toEqual({ "@google-cloud/functions-framework": "5.0.5", "@google-cloud/pubsub": pubsubVersion });
    const code = await readFile(join(out, "index.js"), "utf8");
    // Pub/Sub's own code (its publisher client) is not in the bundle; it is installed from package.json.
    expect(code).not.toMatch(/PublisherClient|google\.pubsub\.v1/);
  });

  it("builds a source folder that the Functions Framework serves, handling a storage CloudEvent against the emulator", async () => {
    const [fn] = (await loadEntry(entry)).filter((item) => item.fn.name === "analyze-sensors");
    const out = join(scratch, "analyze-sensors");
    const result = await buildFunction({ entry, fn: fn as NonNullable<typeof fn>, target: "gcp", out });
    const manifest = JSON.parse(await readFile(join(out, "package.json"), "utf8"));
    expect(manifest).toMatchObject({ main: "index.js", type: "module", dependencies: { "@google-cloud/functions-framework": "5.0.5" } });
    expect(manifest.scripts.start).toBe("functions-framework --target=analyze-sensors --signature-type=cloudevent");
    const code = await readFile(join(out, "index.js"), "utf8");
    expect(code).not.toMatch(/@aws-sdk|@azure\//);
    expect(result.artifact).toBe(out);

    // What Cloud Build would install from package.json, linked instead of downloaded.
    await mkdir(join(out, "node_modules", "@google-cloud"), { recursive: true });
    await symlink(frameworkDir, join(out, "node_modules", "@google-cloud", "functions-framework"), "dir");
    // The framework's CLI binds every interface and has no host option: a preload binds it to loopback.
    const preload = join(scratch, "loopback.cjs");
    await writeFile(
      preload,
      'const http = require("node:http"); const listen = http.Server.prototype.listen; http.Server.prototype.listen = function (port, ...rest) { return listen.call(this, port, "127.0.0.1", ...rest.filter((arg) => typeof arg === "function")); };\n',
    );
    const port = await freePort();
    let output = "";
    framework = spawn(
      process.execPath,
      [
        "--require",
        preload,
        join(frameworkDir, "build", "src", "main.js"),
        "--target=analyze-sensors",
        "--signature-type=cloudevent",
        `--port=${port}`,
        `--source=${out}`,
      ],
      {
        cwd: out,
        env: {
          PATH: process.env.PATH ?? "",
          STORAGE_EMULATOR_HOST: emulator.url,
          GCLOUD_PROJECT: emulator.projectId,
          SLUICE_LOG_LEVEL: "error",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    framework.stdout?.on("data", (chunk) => {
      output += chunk;
    });
    framework.stderr?.on("data", (chunk) => {
      output += chunk;
    });
    for (let attempt = 0; attempt < 200; attempt++) {
      const up = await fetch(`http://127.0.0.1:${port}/`).then(
        () => true,
        () => false,
      );
      if (up) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const config = configFromEnv({});
    const storage = new Storage({ apiEndpoint: emulator.url, projectId: emulator.projectId });
    const file = generateFirehoseFiles({ sensors: 5, hours: 0.25, badLineRate: 0.02, seed: 31, stream: `artifact-${Date.now()}` }).next()
      .value;
    if (!file) throw new Error("no file generated");
    await storage.bucket(config.rawBucket).file(file.key).save(Buffer.from(file.body), { resumable: false });
    const [metadata] = await storage.bucket(config.rawBucket).file(file.key).getMetadata();
    const response = await fetch(`http://127.0.0.1:${port}/`, {
      method: "POST",
      ...finalizedCloudEventRequest(config.rawBucket, metadata),
    });
    expect(response.status, output).toBe(204);
    const [report] = await storage.bucket(config.reportBucket).file(`reports/${file.key}.json`).download();
    expect(JSON.parse(report.toString("utf8"))).toMatchObject({
      readings: file.readings,
      badLines: file.badLines,
      source: { key: file.key },
    });
  });
});
