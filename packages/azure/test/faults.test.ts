import { BlobServiceClient } from "@azure/storage-blob";
import { defineFunction, destinations, triggers } from "@sluice/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobObjectStore, toAzureFunction } from "../src/index.js";
import { type RunningAzurite, startAzurite } from "../../../tools/emulators/src/index.js";
import { callHandler, eventGridBlobEvent } from "./azure-native.js";

// Its own Azurite: the first test stops it mid-run.
let azurite: RunningAzurite;
let client: BlobServiceClient;
beforeAll(async () => {
  azurite = await startAzurite();
  client = BlobServiceClient.fromConnectionString(azurite.connectionString);
  for (const name of ["sensor-raw", "sensor-reports"]) await client.getContainerClient(name).createIfNotExists();
});
afterAll(async () => azurite?.stop());

const created = (name: string, size: number) => {
  const blob = client.getContainerClient("sensor-raw").getBlockBlobClient(name);
  return eventGridBlobEvent("Microsoft.Storage.BlobCreated", { url: blob.url, container: "sensor-raw", name, size });
};

describe("faults on Azurite", () => {
  it("skips, without failing, an event whose blob was deleted before it was read", async () => {
    let calls = 0;
    const fn = defineFunction({
      name: "fault-blob-gone",
      trigger: triggers.objectCreated({ bucket: "sensor-raw" }),
      async handler(event) {
        calls++;
        return event.text();
      },
    });
    const handler = toAzureFunction(fn, { store: new BlobObjectStore({ blobServiceClient: client }), logLevel: "error" });
    // A throw here would be a retry; the event must be acknowledged.
    await callHandler(handler, created("readings/never-there.ndjson", 1));
    expect(calls).toBe(1);
  });

  it("throws, so the platform retries, when the destination store stops mid-run", async () => {
    await client.getContainerClient("sensor-raw").getBlockBlobClient("readings/fault.ndjson").uploadData(Buffer.from('{"a":1}\n'));
    let stopped = false;
    const fn = defineFunction({
      name: "fault-store-down",
      trigger: triggers.objectCreated({ bucket: "sensor-raw" }),
      destination: destinations.objectStore({ bucket: "sensor-reports", key: ({ event }) => `reports/${event.key}.json` }),
      async handler(event) {
        const text = await event.text();
        // The store goes away after the input was read and before the report is written.
        await azurite.stop();
        stopped = true;
        return { bytes: text.length };
      },
    });
    // One try per request: the SDK's own retries against a stopped server only make the test slow.
    const impatient = BlobServiceClient.fromConnectionString(azurite.connectionString, { retryOptions: { maxTries: 1 } });
    const handler = toAzureFunction(fn, { store: new BlobObjectStore({ blobServiceClient: impatient }), logLevel: "error" });
    await expect(callHandler(handler, created("readings/fault.ndjson", 8))).rejects.toThrow();
    expect(stopped).toBe(true);
  });
});
