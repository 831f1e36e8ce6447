import { PutObjectCommand, GetObjectCommand } from "@aws-sdk/client-s3";
import { BlobServiceClient } from "@azure/storage-blob";
import { Storage } from "@google-cloud/storage";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineFunction, destinations, silentLogger, triggers } from "@sluice/core";
import { openReplaySource, replay } from "@sluice/cli";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { s3rverClient, startAzurite, startGcsEmulator, startS3rver } from "../../../tools/emulators/src/index.js";

/** The function replayed on every cloud: counts each object's lines into a report keyed by the object. */
const countLines = defineFunction({
  name: "count-lines",
  trigger: triggers.objectCreated({ bucket: "sensor-raw", prefix: "readings/" }),
  destination: destinations.objectStore({ bucket: "sensor-reports", key: ({ event }) => `replayed/${event.key}.json` }),
  async handler(event) {
    let lines = 0;
    for await (const _line of event.lines()) lines++;
    return { lines };
  },
});

const objects = [
  { key: "readings/2026/11/23/01/a", body: "1\n2\n" },
  { key: "readings/2026/11/23/02/b", body: "1\n2\n3\n" },
  { key: "other/c", body: "1\n" },
];

let scratch: string;
const saved = { ...process.env };
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "sluice-replay-clouds-"));
});
afterAll(async () => {
  process.env = saved;
  await rm(scratch, { recursive: true, force: true });
});

async function replayTwice(from: string, readReport: (key: string) => Promise<string>) {
  const source = await openReplaySource(from);
  const checkpoint = join(scratch, `${from.split(":")[0]}.ndjson`);
  const first = await replay(countLines, source, { checkpoint, log: silentLogger });
  expect(first).toMatchObject({ objects: 2, ok: 2, failed: [] });
  expect(JSON.parse(await readReport("replayed/readings/2026/11/23/02/b.json"))).toEqual({ lines: 3 });
  const again = await replay(countLines, source, { checkpoint, log: silentLogger });
  expect(again).toMatchObject({ objects: 2, skippedByCheckpoint: 2, ok: 0 });
}

describe("sluice replay from cloud stores, through each provider's store as the CLI loads it", () => {
  it("s3:// on s3rver, the client configured by the environment as on AWS", async () => {
    const s3 = await startS3rver();
    try {
      Object.assign(process.env, {
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "S3RVER",
        AWS_SECRET_ACCESS_KEY: "S3RVER",
        AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${s3.port}`,
        AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
        AWS_RESPONSE_CHECKSUM_VALIDATION: "WHEN_REQUIRED",
      });
      const client = s3rverClient(s3.port);
      for (const { key, body } of objects) await client.send(new PutObjectCommand({ Bucket: "sensor-raw", Key: key, Body: body }));
      await replayTwice("s3://sensor-raw/readings/", async (key) =>
        String(await (await client.send(new GetObjectCommand({ Bucket: "sensor-reports", Key: key }))).Body?.transformToString()),
      );
    } finally {
      await s3.stop();
    }
  });

  it("gs:// on the Cloud Storage emulator, found through STORAGE_EMULATOR_HOST", async () => {
    const emulator = await startGcsEmulator();
    try {
      process.env.STORAGE_EMULATOR_HOST = emulator.url;
      const storage = new Storage({ apiEndpoint: emulator.url, projectId: emulator.projectId });
      for (const { key, body } of objects) await storage.bucket("sensor-raw").file(key).save(body, { resumable: false });
      await replayTwice("gs://sensor-raw/readings/", async (key) =>
        (await storage.bucket("sensor-reports").file(key).download())[0].toString("utf8"),
      );
    } finally {
      delete process.env.STORAGE_EMULATOR_HOST;
      await emulator.stop();
    }
  });

  it("azblob:// on Azurite, connected through AzureWebJobsStorage", async () => {
    const azurite = await startAzurite();
    try {
      process.env.AzureWebJobsStorage = azurite.connectionString;
      const client = BlobServiceClient.fromConnectionString(azurite.connectionString);
      for (const name of ["sensor-raw", "sensor-reports"]) await client.getContainerClient(name).createIfNotExists();
      for (const { key, body } of objects)
        await client.getContainerClient("sensor-raw").getBlockBlobClient(key).uploadData(Buffer.from(body));
      await replayTwice("azblob://sensor-raw/readings/", async (key) =>
        (await client.getContainerClient("sensor-reports").getBlobClient(key).downloadToBuffer()).toString("utf8"),
      );
    } finally {
      await azurite.stop();
    }
  });
});
