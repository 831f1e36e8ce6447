import { randomUUID } from "node:crypto";
import { InvocationContext } from "@azure/functions";
import { BlobServiceClient } from "@azure/storage-blob";
import { readAllBytes } from "@sluice/core";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { type GeneratedFile, generateFirehoseFiles } from "../../../examples/sensor-pipeline/src/generate.js";

const connectionString = inject("azuriteConnectionString");
const client = BlobServiceClient.fromConnectionString(connectionString);
const containers = { raw: "sensor-raw", reports: "sensor-reports", quarantine: "sensor-quarantine" };

beforeAll(async () => {
  // The example's default store reads this setting, as it would in a Function App.
  process.env.AzureWebJobsStorage = connectionString;
  for (const name of Object.values(containers)) await client.getContainerClient(name).createIfNotExists();
});

/** Uploads a generated file and builds the BlobCreated event Event Grid would send for it. */
async function uploadAndDescribe(file: GeneratedFile) {
  const blob = client.getContainerClient(containers.raw).getBlockBlobClient(file.key);
  await blob.uploadData(Buffer.from(file.body), { blobHTTPHeaders: { blobContentType: "application/x-ndjson" } });
  return describeBlob(containers.raw, file.key);
}

/** The BlobCreated event Event Grid would send for a blob, built from the blob's real properties (Azurite emits none). */
async function describeBlob(container: string, name: string) {
  const blob = client.getContainerClient(container).getBlockBlobClient(name);
  const properties = await blob.getProperties();
  const data = {
    api: "PutBlob",
    requestId: randomUUID(),
    eTag: properties.etag, // Azurite answers it quoted: the translator must unquote it.
    contentType: properties.contentType,
    contentLength: properties.contentLength,
    blobType: "BlockBlob",
    url: blob.url, // path-style on Azurite: http://127.0.0.1:<port>/devstoreaccount1/sensor-raw/readings/…
    sequencer: "0000000000000000000000000001a2f300000000004c9d18",
  };
  const event = {
    topic:
      "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/sluice/providers/Microsoft.Storage/storageAccounts/devstoreaccount1",
    subject: `/blobServices/default/containers/${container}/blobs/${name}`,
    eventType: "Microsoft.Storage.BlobCreated",
    // Event Grid writes seven fractional digits.
    eventTime: (properties.lastModified as Date).toISOString().replace("Z", "0000Z"),
    id: randomUUID(),
    data,
    dataVersion: "",
    metadataVersion: "1",
  };
  return { event, triggerMetadata: { data } };
}

async function readText(container: string, name: string): Promise<string> {
  const response = await client.getContainerClient(container).getBlobClient(name).download();
  const chunks: Buffer[] = [];
  for await (const chunk of response.readableStreamBody as NodeJS.ReadableStream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

describe("the sensor pipeline on Azurite, through examples/sensor-pipeline/src/azure.ts", () => {
  const plain = [...generateFirehoseFiles({ sensors: 6, hours: 1, bufferMinutes: 30, badLineRate: 0.02, seed: 7 })];
  const gzipped = [...generateFirehoseFiles({ sensors: 4, hours: 0.5, bufferMinutes: 30, badLineRate: 0.03, seed: 11, gzip: true })];
  const files = [plain[0], gzipped[0]] as GeneratedFile[];

  it("generates files with bad lines, one of them gzip", () => {
    expect(files.map((file) => file.gzip)).toEqual([false, true]);
    for (const file of files) expect(file.badLines).toBeGreaterThan(0);
    expect([...(files[1] as GeneratedFile).body.slice(0, 2)]).toEqual([0x1f, 0x8b]);
  });

  for (const [index, label] of ["plain NDJSON", "gzip NDJSON"].entries()) {
    it(`analyses a ${label} file: the report and the quarantine land in Blob storage`, async () => {
      const file = files[index] as GeneratedFile;
      const { default: handler } = await import("../../../examples/sensor-pipeline/src/azure.js");
      const { event, triggerMetadata } = await uploadAndDescribe(file);
      const context = new InvocationContext({ invocationId: randomUUID(), functionName: "analyze-sensors", triggerMetadata });
      await expect(handler(event, context)).resolves.toBeUndefined();

      const report = JSON.parse(await readText(containers.reports, `reports/${file.key}.json`));
      expect(report.source).toEqual({ bucket: containers.raw, key: file.key });
      expect(report.readings).toBe(file.readings);
      expect(report.badLines).toBe(file.badLines);
      expect(report.lines).toBe(file.readings + file.badLines);

      const quarantined = (await readText(containers.quarantine, `failed/${file.key}.ndjson`))
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
      expect(quarantined).toHaveLength(file.badLines);
      const text = new TextDecoder().decode(await readAllBytes(gunzipIf(file)));
      const lines = text.split("\n");
      for (const record of quarantined) {
        expect(record).toMatchObject({ function: "analyze-sensors", provider: "azure", event: { kind: "object.created", key: file.key } });
        expect(record.raw).toBe(lines[record.line - 1]);
      }
    });
  }

  it("rolls the hour up when the report's own BlobCreated event reaches the second stage", async () => {
    const { rollUp } = await import("../../../examples/sensor-pipeline/src/azure.js");
    const file = files[0] as GeneratedFile;
    const reportKey = `reports/${file.key}.json`;
    const { event, triggerMetadata } = await describeBlob(containers.reports, reportKey);
    const context = new InvocationContext({ invocationId: randomUUID(), functionName: "roll-up-hourly", triggerMetadata });
    await expect(rollUp(event, context)).resolves.toBeUndefined();
    const hour = file.key.slice("readings/".length, "readings/YYYY/MM/DD/HH".length);
    const rollup = JSON.parse(
      await readText(containers.reports, `rollups/${hour.slice(0, 10).replace(/\//g, "-")}/${hour.slice(11)}.json`),
    );
    // The roll-up covers every report of that hour found in Blob storage, this one included.
    const reportsOfHour: string[] = [];
    let readings = 0;
    for await (const item of client.getContainerClient(containers.reports).listBlobsFlat({ prefix: `reports/readings/${hour}/` })) {
      reportsOfHour.push(item.name);
      readings += JSON.parse(await readText(containers.reports, item.name)).readings;
    }
    expect(reportsOfHour).toContain(reportKey);
    expect(rollup).toMatchObject({ reports: reportsOfHour, readings });
  });
});

function gunzipIf(file: GeneratedFile): ReadableStream<Uint8Array> {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(file.body);
      controller.close();
    },
  });
  return file.gzip ? source.pipeThrough(new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>) : source;
}
