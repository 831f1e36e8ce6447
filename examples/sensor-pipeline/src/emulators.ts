import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import azureFunctions from "@azure/functions";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { Storage } from "@google-cloud/storage";
import { buildFunction, loadEntry } from "@sluice/cli";
import { readAllBytes } from "@sluice/core";
import {
  AZURITE_ACCOUNT_NAME,
  blobCreatedEvent,
  finalizedCloudEventRequest,
  type GcsEmulator,
  type RunningAzurite,
  s3rverClient,
  startAzurite,
  startGcsEmulator,
  startS3rver,
} from "@sluice/emulators";
import { LocalObjectStore } from "@sluice/local";
import { unzipSync } from "fflate";
import { type DemoOptions, type DemoSummary, runDemo } from "./demo.js";
import { configFromEnv, type SensorPipelineConfig } from "./function.js";
import { type GeneratedFile, generateFirehoseFiles } from "./generate.js";

/** The local demo's options; `root` also holds the built artifacts, and is emptied first. */
export type EmulatorDemoOptions = DemoOptions;

export type Provider = "local" | "aws" | "gcp" | "azure";
export const PROVIDERS: readonly Provider[] = ["local", "aws", "gcp", "azure"];

export interface EmulatorDemoResult {
  files: number;
  /** Report keys found per provider. */
  reports: Record<Provider, number>;
  /** Invocations that failed, per cloud. */
  failed: Record<Exclude<Provider, "local">, number>;
  identical: boolean;
  /** The first difference found, when not identical. */
  difference?: string;
  local: DemoSummary;
  seconds: number;
}

const FUNCTION_NAME = "analyze-sensors";
// @azure/functions is CommonJS whose named exports Node cannot detect from an ES module: take them from the default.
const { InvocationContext } = azureFunctions;
type InvocationContext = InstanceType<typeof InvocationContext>;
const entry = fileURLToPath(new URL("./function.ts", import.meta.url));
const BUFFER_MINUTES = 15;

type Cloud = Exclude<Provider, "local">;

/** One cloud as the demo drives it: upload a file, deliver its event to the artifact, read reports back. */
interface CloudRun {
  name: Cloud;
  deliver(file: GeneratedFile): Promise<void>;
  reportKeys(): Promise<string[]>;
  report(key: string): Promise<Uint8Array>;
}

/**
 * `pnpm demo --emulators`: the local demo, then the same files uploaded into s3rver, the Cloud Storage
 * emulator and Azurite, each upload's event handed to the artifact `sluice build` made for that cloud,
 * and at the end every report compared byte for byte across the four providers.
 */
export async function runEmulatorDemo(options: EmulatorDemoOptions): Promise<EmulatorDemoResult> {
  const print = options.print ?? ((line: string) => console.log(line));
  const interactive = options.interactive ?? false;
  const root = resolve(options.root);
  const started = performance.now();
  await rm(root, { recursive: true, force: true });
  await mkdir(root, { recursive: true });

  print("Step 1 of 3: the local run");
  const local = await runDemo({ ...options, root: join(root, "local"), print, interactive });
  // The bucket names the local run used (SENSOR_*_BUCKET or the defaults), for the emulators too.
  const config = configFromEnv();

  print("");
  print("Step 2 of 3: the same files through each cloud's built artifact, on emulators");
  const builds = await buildArtifacts(join(root, "build"), print);

  const stops: Array<() => Promise<unknown>> = [];
  const restoreEnv = setEnv({
    // Read by the AWS SDK inside the Lambda bundle, which runs in this process.
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    // s3rver stores aws-chunked framing as the object unless checksums are only sent when required.
    AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
    AWS_RESPONSE_CHECKSUM_VALIDATION: "WHEN_REQUIRED",
    // The handlers log each file at info; the progress line says enough.
    SLUICE_LOG_LEVEL: "error",
    // Both AWS SDKs here (the demo's and the bundle's) warn on Node 20 about releases due in 2027.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    // Set once the servers run (their ports are the OS's choice); listed so that they are restored too.
    AWS_ENDPOINT_URL_S3: undefined,
    AzureWebJobsStorage: undefined,
  });
  // The Azure app runs in this process and logs each file at info through console.log (its adapter takes
  // no SLUICE_LOG_LEVEL; on Azure these lines go to Application Insights): keep its warnings and errors only.
  const restoreLog = quietInfoLogs();
  try {
    // One after another, each stop registered as soon as it runs, so a failed start leaves nothing behind.
    const s3 = await startS3rver();
    stops.push(() => s3.stop());
    const gcs = await startGcsEmulator();
    stops.push(() => gcs.stop());
    const azurite = await startAzurite();
    stops.push(() => azurite.stop());
    print(`  s3rver http://127.0.0.1:${s3.port}, Cloud Storage emulator ${gcs.url}, Azurite ${azurite.url}`);

    const clouds: CloudRun[] = [
      await awsRun(s3, builds.aws, config),
      await gcpRun(gcs, builds.gcp, config, stops),
      await azureRun(azurite, builds.azure, config, print),
    ];

    const totalFiles = Math.ceil((options.hours * 60) / BUFFER_MINUTES);
    const done: Record<Cloud, number> = { aws: 0, gcp: 0, azure: 0 };
    const failed: Record<Cloud, number> = { aws: 0, gcp: 0, azure: 0 };
    const errors: string[] = [];
    const cloudStarted = performance.now();
    let lastPrinted = 0;
    const progress = (final = false) => {
      const least = Math.min(...Object.values(done));
      const seconds = ((performance.now() - cloudStarted) / 1000).toFixed(1);
      const parts = clouds.map(({ name }) => `${name} ${done[name]}/${totalFiles}${failed[name] ? ` (${failed[name]} failed)` : ""}`);
      const line = `  ${parts.join("   ")}   ${seconds} s`;
      if (interactive) process.stdout.write(`\r${line}${final ? "\n" : ""}`);
      else if (least !== lastPrinted && (final || least % Math.max(1, Math.floor(totalFiles / 8)) === 0)) {
        lastPrinted = least;
        print(line);
      }
    };

    // The same generator, options and (default) seed as the local run, so the keys and bytes are the same.
    const files = generateFirehoseFiles({
      sensors: options.sensors,
      hours: options.hours,
      bufferMinutes: BUFFER_MINUTES,
      gzip: options.gzip,
      badLineRate: options.badLineRate,
    });
    for (const file of files) {
      // Each cloud gets the file at the same time; within a cloud, one file after another, as it lands.
      await Promise.all(
        clouds.map(async (cloud) => {
          try {
            await cloud.deliver(file);
          } catch (error) {
            failed[cloud.name]++;
            if (errors.length < 3) errors.push(`${cloud.name} ${file.key}: ${error instanceof Error ? error.message : String(error)}`);
          }
          done[cloud.name]++;
          progress();
        }),
      );
    }
    progress(true);
    for (const error of errors) print(`  FAILED ${error}`);

    print("");
    print("Step 3 of 3: the reports compared byte for byte");
    const localStore = new LocalObjectStore({ root: join(root, "local") });
    const localKeys: string[] = [];
    for await (const info of localStore.list(config.reportBucket, { prefix: "reports/" })) localKeys.push(info.key);
    localKeys.sort();
    const reports = { local: localKeys.length } as Record<Provider, number>;
    let difference: string | undefined;
    for (const cloud of clouds) {
      const keys = (await cloud.reportKeys()).sort();
      reports[cloud.name] = keys.length;
      if (!difference) difference = keyDifference(localKeys, keys, cloud.name);
    }
    let compared = 0;
    for (const key of localKeys) {
      if (difference) break;
      const expected = await readAllBytes(await localStore.get(config.reportBucket, key));
      for (const cloud of clouds) {
        const actual = await cloud.report(key);
        if (!Buffer.from(actual).equals(Buffer.from(expected))) {
          difference = byteDifference(key, cloud.name, expected, actual);
          break;
        }
      }
      compared++;
    }
    const identical = difference === undefined && localKeys.length === totalFiles && compared === localKeys.length;
    if (!difference && localKeys.length !== totalFiles) difference = `${localKeys.length} reports for ${totalFiles} files`;
    const seconds = (performance.now() - started) / 1000;
    for (const provider of PROVIDERS) print(`  ${provider.padEnd(6)} ${reports[provider]} reports`);
    print(
      identical
        ? `  ${localKeys.length} reports × ${PROVIDERS.length} providers: identical, byte for byte`
        : `  NOT IDENTICAL: ${difference}`,
    );
    print(`  time ${seconds.toFixed(1)} s in all`);
    return { files: totalFiles, reports, failed, identical, ...(difference ? { difference } : {}), local, seconds };
  } finally {
    restoreLog();
    restoreEnv();
    // Stop in reverse order of start: the Functions Framework before the emulator it talks to.
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  }
}

interface Builds {
  aws: string;
  gcp: string;
  azure: string;
}

/** `sluice build` for each cloud, as a user would before deploying. */
async function buildArtifacts(out: string, print: (line: string) => void): Promise<Builds> {
  const found = (await loadEntry(entry)).find((item) => item.fn.name === FUNCTION_NAME);
  if (!found) throw new Error(`${entry} has no function ${FUNCTION_NAME}`);
  // No Lambda runtime here to provide the AWS SDK, so it is bundled, as `sluice build --bundle-sdk` does.
  const aws = await buildFunction({ entry, fn: found, target: "aws", out: join(out, "aws"), bundleSdk: true });
  const gcp = await buildFunction({ entry, fn: found, target: "gcp", out: join(out, "gcp") });
  const azure = await buildFunction({ entry, fn: found, target: "azure", out: join(out, "azure") });
  for (const result of [aws, gcp, azure]) {
    const kb = result.files.reduce((sum, file) => sum + file.bytes, 0) / 1024;
    print(`  built ${result.target.padEnd(5)} ${result.artifact} (${kb.toFixed(0)} KiB)`);
  }
  // What Lambda does with the zip: unpack it into the task root.
  const task = join(out, "aws-task");
  await mkdir(task, { recursive: true });
  for (const [name, bytes] of Object.entries(unzipSync(new Uint8Array(await readFile(aws.artifact)))))
    await writeFile(join(task, name), bytes);
  return { aws: task, gcp: gcp.artifact, azure: azure.artifact };
}

function quietInfoLogs(): () => void {
  const original = console.log;
  console.log = (...args: unknown[]) => {
    if (args.length === 1 && typeof args[0] === "string" && args[0].startsWith('{"level":"info"')) return;
    original(...args);
  };
  return () => {
    console.log = original;
  };
}

/** Sets (or, for undefined, unsets) environment variables; the function returned puts them back. */
function setEnv(values: Record<string, string | undefined>): () => void {
  const saved = Object.fromEntries(Object.keys(values).map((name) => [name, process.env[name]]));
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/**
 * AWS: the put goes to s3rver, which emits the S3 event record it would send to a notification target;
 * that record is handed to the unpacked bundle's `handler`, imported in this process (not under the
 * Lambda runtime client: the artifact test does that).
 */
async function awsRun(s3: Awaited<ReturnType<typeof startS3rver>>, task: string, config: SensorPipelineConfig): Promise<CloudRun> {
  const client: S3Client = s3rverClient(s3.port);
  for (const bucket of [config.rawBucket, config.reportBucket, config.quarantineBucket]) {
    // s3rver starts with the default names; other names (from SENSOR_*_BUCKET) are made here.
    await client.send(new CreateBucketCommand({ Bucket: bucket })).catch(() => undefined);
  }
  const waiting = new Map<string, (event: unknown) => void>();
  const early = new Map<string, unknown>();
  s3.server.on("event", (event: any) => {
    const record = event?.Records?.[0];
    if (record?.s3?.bucket?.name !== config.rawBucket || !String(record.eventName).startsWith("ObjectCreated:")) return;
    const key = decodeURIComponent(String(record.s3.object.key).replace(/\+/g, " "));
    const resolveEvent = waiting.get(key);
    if (resolveEvent) resolveEvent(event);
    else early.set(key, event);
  });
  process.env.AWS_ENDPOINT_URL_S3 = `http://127.0.0.1:${s3.port}`;
  // A fresh URL each run: a second run in one process must not get the module (and S3 client) of the first.
  const bundle = (await import(`${pathToFileURL(join(task, "index.mjs")).href}?run=${randomUUID()}`)) as {
    handler: (event: unknown, context: { awsRequestId: string; getRemainingTimeInMillis(): number }) => Promise<unknown>;
  };
  return {
    name: "aws",
    async deliver(file) {
      const delivered = new Promise<unknown>((resolveEvent, reject) => {
        const timer = setTimeout(() => reject(new Error("s3rver emitted no event")), 10_000);
        waiting.set(file.key, (event) => {
          clearTimeout(timer);
          resolveEvent(event);
        });
      });
      await client.send(
        new PutObjectCommand({ Bucket: config.rawBucket, Key: file.key, Body: file.body, ContentType: "application/x-ndjson" }),
      );
      const ready = early.get(file.key);
      if (ready !== undefined) waiting.get(file.key)?.(ready);
      const event = await delivered;
      waiting.delete(file.key);
      early.delete(file.key);
      await bundle.handler(event, { awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 60_000 });
    },
    async reportKeys() {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: config.reportBucket, Prefix: "reports/", ...(token ? { ContinuationToken: token } : {}) }),
        );
        for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
    async report(key) {
      const answer = await client.send(new GetObjectCommand({ Bucket: config.reportBucket, Key: key }));
      return (await answer.Body?.transformToByteArray()) ?? new Uint8Array();
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/**
 * GCP: the built folder served by the Functions Framework in a child process on 127.0.0.1; for each
 * object saved to the emulator, the `finalized` CloudEvent Eventarc would send, built from the object's
 * metadata as the emulator reports it, POSTed in binary mode.
 */
async function gcpRun(
  gcs: GcsEmulator,
  folder: string,
  config: SensorPipelineConfig,
  stops: Array<() => Promise<unknown>>,
): Promise<CloudRun> {
  const require = createRequire(import.meta.url);
  // The framework's exports hide package.json: find its folder from its main file.
  const frameworkMain = require.resolve("@google-cloud/functions-framework");
  const frameworkDir = frameworkMain.slice(0, frameworkMain.indexOf("/build/"));
  // What Cloud Build would install from the folder's package.json, linked instead of downloaded.
  await mkdir(join(folder, "node_modules", "@google-cloud"), { recursive: true });
  await symlink(frameworkDir, join(folder, "node_modules", "@google-cloud", "functions-framework"), "dir");
  // The framework's CLI listens on every interface and has no host option: a preload binds it to loopback.
  const preload = join(dirname(folder), "loopback.cjs");
  await writeFile(
    preload,
    'const http = require("node:http"); const listen = http.Server.prototype.listen; http.Server.prototype.listen = function (port, ...rest) { return listen.call(this, port, "127.0.0.1", ...rest.filter((arg) => typeof arg === "function")); };\n',
  );
  const port = await freePort();
  const passOn = Object.fromEntries(
    ["SENSOR_RAW_BUCKET", "SENSOR_REPORT_BUCKET", "SENSOR_QUARANTINE_BUCKET"].flatMap((name) =>
      process.env[name] === undefined ? [] : [[name, process.env[name] as string]],
    ),
  );
  const child: ChildProcess = spawn(
    process.execPath,
    [
      "--require",
      preload,
      join(frameworkDir, "build", "src", "main.js"),
      `--target=${FUNCTION_NAME}`,
      "--signature-type=cloudevent",
      `--port=${port}`,
      `--source=${folder}`,
    ],
    {
      cwd: folder,
      env: {
        PATH: process.env.PATH ?? "",
        STORAGE_EMULATOR_HOST: gcs.url,
        GCLOUD_PROJECT: gcs.projectId,
        SLUICE_LOG_LEVEL: "error",
        ...passOn,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output = (output + chunk).slice(-4000);
  });
  child.stderr?.on("data", (chunk) => {
    output = (output + chunk).slice(-4000);
  });
  const exited = new Promise<void>((resolveExit) => child.once("exit", () => resolveExit()));
  stops.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  });
  let up = false;
  for (let attempt = 0; attempt < 300 && !up; attempt++) {
    up = await fetch(`http://127.0.0.1:${port}/`).then(
      () => true,
      () => false,
    );
    if (!up) await new Promise((wait) => setTimeout(wait, 50));
  }
  if (!up) throw new Error(`the Functions Framework did not start:\n${output}`);

  const storage = new Storage({ apiEndpoint: gcs.url, projectId: gcs.projectId });
  return {
    name: "gcp",
    async deliver(file) {
      const object = storage.bucket(config.rawBucket).file(file.key);
      await object.save(Buffer.from(file.body), { resumable: false, contentType: "application/x-ndjson" });
      const [metadata] = await object.getMetadata();
      const request = finalizedCloudEventRequest(config.rawBucket, metadata);
      const response = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", ...request });
      if (response.status !== 204) throw new Error(`the function answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    },
    async reportKeys() {
      const [files] = await storage.bucket(config.reportBucket).getFiles({ prefix: "reports/" });
      return files.map((file) => file.name);
    },
    async report(key) {
      const [bytes] = await storage.bucket(config.reportBucket).file(key).download();
      return new Uint8Array(bytes);
    },
  };
}

/**
 * Azure: the built app's `main` loaded in this process, where @azure/functions runs in test mode; for
 * each blob uploaded to Azurite, the BlobCreated event Event Grid would send, built from the blob's
 * properties, handed to the registered handler with an InvocationContext.
 */
async function azureRun(
  azurite: RunningAzurite,
  folder: string,
  config: SensorPipelineConfig,
  print: (line: string) => void,
): Promise<CloudRun> {
  const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
  const containers = new Map<string, ContainerClient>();
  for (const name of [config.rawBucket, config.reportBucket, config.quarantineBucket]) {
    const container = service.getContainerClient(name);
    await container.createIfNotExists();
    containers.set(name, container);
  }
  print("  Azure: outside the Functions host, @azure/functions runs in test mode and says so; the handler is called directly");
  // The Functions host hands the app its storage account through this setting.
  process.env.AzureWebJobsStorage = azurite.connectionString;
  const manifest = JSON.parse(await readFile(join(folder, "package.json"), "utf8")) as { main: string };
  const require = createRequire(import.meta.url);
  const main = join(folder, manifest.main);
  // Same reason as the AWS bundle's fresh URL: a second run loads the app again.
  delete require.cache[main];
  const app = require(main) as {
    handler: (input: unknown, context: InvocationContext) => Promise<unknown>;
  };
  const raw = containers.get(config.rawBucket) as ContainerClient;
  const reports = containers.get(config.reportBucket) as ContainerClient;
  let sequence = 0;
  return {
    name: "azure",
    async deliver(file) {
      const blob = raw.getBlockBlobClient(file.key);
      const upload = await blob.uploadData(Buffer.from(file.body), { blobHTTPHeaders: { blobContentType: "application/x-ndjson" } });
      const properties = await blob.getProperties();
      sequence++;
      const { event, triggerMetadata } = blobCreatedEvent({
        account: AZURITE_ACCOUNT_NAME,
        container: config.rawBucket,
        name: file.key,
        url: blob.url,
        properties,
        requestId: upload.requestId,
        sequencer: sequence.toString(16).padStart(48, "0"),
      });
      const context = new InvocationContext({ invocationId: randomUUID(), functionName: FUNCTION_NAME, triggerMetadata });
      await app.handler(event, context);
    },
    async reportKeys() {
      const keys: string[] = [];
      for await (const item of reports.listBlobsFlat({ prefix: "reports/" })) keys.push(item.name);
      return keys;
    },
    async report(key) {
      return new Uint8Array(await reports.getBlobClient(key).downloadToBuffer());
    },
  };
}

function keyDifference(expected: string[], actual: string[], cloud: Cloud): string | undefined {
  const have = new Set(actual);
  const missing = expected.find((key) => !have.has(key));
  if (missing) return `${cloud} has no report ${missing} (${actual.length} reports, local ${expected.length})`;
  const want = new Set(expected);
  const extra = actual.find((key) => !want.has(key));
  if (extra) return `${cloud} has a report the local run has not: ${extra}`;
  return undefined;
}

function byteDifference(key: string, cloud: Cloud, expected: Uint8Array, actual: Uint8Array): string {
  let at = 0;
  while (at < expected.length && at < actual.length && expected[at] === actual[at]) at++;
  const show = (bytes: Uint8Array) => JSON.stringify(new TextDecoder().decode(bytes.slice(Math.max(0, at - 30), at + 30)));
  return `${key}: ${cloud} differs from local at byte ${at} (${actual.length} bytes against ${expected.length}): ${show(actual)} against ${show(expected)}`;
}
