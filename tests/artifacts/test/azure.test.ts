import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvocationContext } from "@azure/functions";
import { BlobServiceClient } from "@azure/storage-blob";
import { buildFunction, loadEntry } from "@sluice/cli";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFromEnv } from "../../../examples/sensor-pipeline/src/function.js";
import { generateFirehoseFiles } from "../../../examples/sensor-pipeline/src/generate.js";
import { blobCreatedEvent, type RunningAzurite, startAzurite } from "../../../tools/emulators/src/index.js";

const entry = new URL("../../../examples/sensor-pipeline/src/function.ts", import.meta.url).pathname;

let scratch: string;
let azurite: RunningAzurite;
const saved = process.env.AzureWebJobsStorage;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "sluice-artifact-azure-"));
  azurite = await startAzurite();
});
afterAll(async () => {
  if (saved === undefined) delete process.env.AzureWebJobsStorage;
  else process.env.AzureWebJobsStorage = saved;
  await azurite?.stop();
  await rm(scratch, { recursive: true, force: true });
});

describe("sluice build --target azure", () => {
  it("builds an app folder whose main registers through @azure/functions and handles a BlobCreated event against Azurite", async () => {
    const [fn] = (await loadEntry(entry)).filter((item) => item.fn.name === "analyze-sensors");
    const out = join(scratch, "app");
    await buildFunction({ entry, fn: fn as NonNullable<typeof fn>, target: "azure", out });
    const manifest = JSON.parse(await readFile(join(out, "package.json"), "utf8"));
    expect(manifest.main).toBe("dist/index.js");
    expect(JSON.parse(await readFile(join(out, "host.json"), "utf8"))).toMatchObject({ version: "2.0" });
    const code = await readFile(join(out, manifest.main), "utf8");
    expect(code).not.toMatch(/@aws-sdk|@google-cloud/);

    const config = configFromEnv({});
    const client = BlobServiceClient.fromConnectionString(azurite.connectionString);
    for (const name of [config.rawBucket, config.reportBucket, config.quarantineBucket])
      await client.getContainerClient(name).createIfNotExists();
    const file = generateFirehoseFiles({ sensors: 5, hours: 0.25, badLineRate: 0.02, seed: 41 }).next().value;
    if (!file) throw new Error("no file generated");
    const blob = client.getContainerClient(config.rawBucket).getBlockBlobClient(file.key);
    await blob.uploadData(Buffer.from(file.body));
    const properties = await blob.getProperties();
    const { event, triggerMetadata } = blobCreatedEvent({
      account: "devstoreaccount1",
      container: config.rawBucket,
      name: file.key,
      url: blob.url,
      properties,
    });

    // The host loads `main`; outside it, @azure/functions runs in test mode and the exported handler is called directly.
    process.env.AzureWebJobsStorage = azurite.connectionString;
    const app = createRequire(import.meta.url)(join(out, manifest.main)) as {
      handler: (input: unknown, context: InvocationContext) => Promise<unknown>;
    };
    const context = new InvocationContext({ invocationId: randomUUID(), functionName: "analyze-sensors", triggerMetadata });
    await app.handler(event, context);

    const download = await client.getContainerClient(config.reportBucket).getBlobClient(`reports/${file.key}.json`).downloadToBuffer();
    expect(JSON.parse(download.toString("utf8"))).toMatchObject({
      readings: file.readings,
      badLines: file.badLines,
      source: { key: file.key },
    });
  });
});
