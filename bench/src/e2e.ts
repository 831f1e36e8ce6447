/**
 * Scenario 5: end to end on the emulators. Objects are put in the raw bucket, then the sensor analysis
 * (examples/sensor-pipeline, with its report and quarantine destinations) runs on each as the cloud's
 * adapter would be called, reading from and writing to the emulator. Also timed: reading every object
 * through the same store alone, to split the time between the store and the function.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ObjectStore } from "@sluice/core";
import { readAllBytes } from "@sluice/core";
import { createAnalyzeSensors } from "../../examples/sensor-pipeline/src/function.js";
import { generateFirehoseFiles } from "../../examples/sensor-pipeline/src/generate.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const fixture = (path: string) => JSON.parse(readFileSync(join(root, path), "utf8"));
const RAW = "sensor-raw";

export interface E2eResult {
  provider: string;
  files: number;
  bytes: number;
  uploadMs: number;
  /** Every file through the adapter, sequentially. */
  functionMs: number;
  /** Every file read through the store alone. */
  readMs: number;
  reports: number;
  error?: string;
}

async function drive(
  provider: string,
  store: ObjectStore,
  invoke: (key: string, size: number, index: number) => Promise<void>,
  fileCount: number,
): Promise<E2eResult> {
  const files = [...generateFirehoseFiles({ hours: Math.ceil(fileCount / 4) })].slice(0, fileCount);
  const bytes = files.reduce((sum, f) => sum + f.body.byteLength, 0);
  let start = performance.now();
  for (const file of files) await store.put(RAW, file.key, file.body, { contentType: "application/x-ndjson" });
  const uploadMs = performance.now() - start;
  start = performance.now();
  for (const file of files) await readAllBytes(await store.get(RAW, file.key));
  const readMs = performance.now() - start;
  start = performance.now();
  for (const [index, file] of files.entries()) await invoke(file.key, file.body.byteLength, index);
  const functionMs = performance.now() - start;
  let reports = 0;
  for await (const _info of store.list("sensor-reports", { prefix: "reports/" })) reports++;
  return { provider, files: files.length, bytes, uploadMs, functionMs, readMs, reports };
}

async function aws(fileCount: number): Promise<E2eResult> {
  const { startS3rver, s3rverClient } = await import("../../tools/emulators/src/s3rver.js");
  const { S3ObjectStore, toLambda } = await import("@sluice/aws");
  const server = await startS3rver();
  try {
    const client = s3rverClient(server.port);
    const store = new S3ObjectStore({ client });
    const handler = toLambda(createAnalyzeSensors(), { s3: client, logLevel: "error" });
    const template = fixture("packages/aws/test/fixtures/s3/object-created-put.json");
    const record = template.Records[0];
    return await drive(
      "AWS: s3rver → toLambda → s3rver",
      store,
      async (key, size, index) => {
        const event = {
          Records: [
            {
              ...record,
              eventTime: new Date().toISOString(),
              s3: {
                ...record.s3,
                bucket: { ...record.s3.bucket, name: RAW, arn: `arn:aws:s3:::${RAW}` },
                object: { ...record.s3.object, key: encodeURIComponent(key).replace(/%2F/g, "/").replace(/%20/g, "+"), size },
              },
            },
          ],
        };
        await handler(event, { awsRequestId: `e2e-${index}`, getRemainingTimeInMillis: () => 900_000 });
      },
      fileCount,
    );
  } finally {
    await server.stop();
  }
}

async function azure(fileCount: number): Promise<E2eResult> {
  const { startAzurite } = await import("../../tools/emulators/src/azurite.js");
  const { BlobServiceClient } = await import("@azure/storage-blob");
  const { InvocationContext } = await import("@azure/functions");
  const { BlobObjectStore, toAzureFunction } = await import("@sluice/azure");
  const azurite = await startAzurite();
  try {
    const client = BlobServiceClient.fromConnectionString(azurite.connectionString);
    for (const name of [RAW, "sensor-reports", "sensor-quarantine"]) await client.getContainerClient(name).createIfNotExists();
    const store = new BlobObjectStore({ blobServiceClient: client });
    const handler = toAzureFunction(createAnalyzeSensors(), { register: false, store, logLevel: "error" }) as unknown as (
      input: unknown,
      context: unknown,
    ) => Promise<void>;
    const template = fixture("packages/azure/test/fixtures/eventgrid/blob-created.json").input;
    return await drive(
      "Azure: Azurite → toAzureFunction (Event Grid) → Azurite",
      store,
      async (key, size, index) => {
        const event = {
          ...template,
          id: `e2e-${index}`,
          eventTime: new Date().toISOString(),
          subject: `/blobServices/default/containers/${RAW}/blobs/${key}`,
          data: { ...template.data, contentLength: size, url: `${azurite.blobEndpoint}/${RAW}/${key}` },
        };
        await handler(
          event,
          new InvocationContext({ invocationId: `e2e-${index}`, functionName: "analyze-sensors", triggerMetadata: { data: event.data } }),
        );
      },
      fileCount,
    );
  } finally {
    await azurite.stop();
  }
}

async function gcp(fileCount: number): Promise<E2eResult> {
  const { startGcsEmulator } = await import("../../tools/emulators/src/gcs-emulator.js");
  const { Storage } = await import("@google-cloud/storage");
  const { GcsObjectStore, toCloudFunction } = await import("@sluice/gcp");
  const emulator = await startGcsEmulator();
  try {
    const storage = new Storage({ apiEndpoint: emulator.url, projectId: emulator.projectId });
    const store = new GcsObjectStore({ storage });
    const handler = toCloudFunction(createAnalyzeSensors(), { register: false, store, logLevel: "error" }) as (
      ce: unknown,
    ) => Promise<void>;
    const template = fixture("packages/gcp/test/fixtures/framework-observed/storage-finalized-structured.json");
    return await drive(
      "GCP: GCS emulator → toCloudFunction (CloudEvent) → GCS emulator",
      store,
      async (key, size, index) => {
        const time = new Date().toISOString();
        await handler({
          ...template,
          id: `e2e-${index}`,
          time,
          subject: `objects/${key}`,
          data: { ...template.data, name: key, bucket: RAW, size: String(size), id: `${RAW}/${key}/1`, timeCreated: time, updated: time },
        });
      },
      fileCount,
    );
  } finally {
    await emulator.stop();
  }
}

export async function runEndToEnd(fileCount: number): Promise<E2eResult[]> {
  const results: E2eResult[] = [];
  for (const [name, run] of [
    ["aws", aws],
    ["azure", azure],
    ["gcp", gcp],
  ] as const) {
    try {
      results.push(await run(fileCount));
    } catch (error) {
      results.push({
        provider: name,
        files: 0,
        bytes: 0,
        uploadMs: 0,
        functionMs: 0,
        readMs: 0,
        reports: 0,
        error: String(error).slice(0, 400),
      });
    }
  }
  return results;
}
