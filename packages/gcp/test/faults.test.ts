import { Storage } from "@google-cloud/storage";
import { defineFunction, destinations, triggers } from "@sluice/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GcsObjectStore, toCloudFunction } from "../src/index.js";
import { deliver } from "./framework.js";
import { type GcsEmulator, startGcsEmulator } from "../../../tools/emulators/src/index.js";

// Its own emulator, in this worker: the first test stops it mid-run.
let emulator: GcsEmulator;
let storage: Storage;
beforeAll(async () => {
  emulator = await startGcsEmulator();
  storage = new Storage({ apiEndpoint: emulator.url, projectId: emulator.projectId });
});
afterAll(async () => emulator?.stop());

function finalized(bucket: string, name: string, size: number) {
  return {
    specversion: "1.0",
    id: `fault-${name}`,
    source: `//storage.googleapis.com/projects/_/buckets/${bucket}`,
    type: "google.cloud.storage.object.v1.finalized",
    subject: `objects/${name}`,
    time: "2026-11-23T14:05:00.123456Z",
    data: { bucket, name, size: String(size), generation: "1", contentType: "application/x-ndjson" },
  };
}

describe("faults on the Cloud Storage emulator", () => {
  it("skips, without failing, an event whose object was deleted before it was read", async () => {
    let calls = 0;
    const fn = defineFunction({
      name: "fault-object-gone",
      trigger: triggers.objectCreated({ bucket: "sensor-raw" }),
      async handler(event) {
        calls++;
        return event.text();
      },
    });
    toCloudFunction(fn, { store: new GcsObjectStore({ storage }), logLevel: "error" });
    const response = await deliver("fault-object-gone", {
      kind: "cloudevent",
      mode: "binary",
      event: finalized("sensor-raw", "readings/never-there.ndjson", 1),
    });
    expect(response.status).toBe(204);
    expect(calls).toBe(1);
  });

  it("answers with an error, so the platform retries, when the destination store stops mid-run", async () => {
    await storage.bucket("sensor-raw").file("readings/fault.ndjson").save('{"a":1}\n', { resumable: false });
    let written = false;
    const fn = defineFunction({
      name: "fault-store-down",
      trigger: triggers.objectCreated({ bucket: "sensor-raw" }),
      destination: destinations.objectStore({ bucket: "sensor-reports", key: ({ event }) => `reports/${event.key}.json` }),
      async handler(event) {
        const text = await event.text();
        // The store goes away after the input was read and before the report is written.
        await emulator.stop();
        written = true;
        return { bytes: text.length };
      },
    });
    toCloudFunction(fn, { store: new GcsObjectStore({ storage }), logLevel: "error" });
    const response = await deliver("fault-store-down", {
      kind: "cloudevent",
      mode: "binary",
      event: finalized("sensor-raw", "readings/fault.ndjson", 8),
    });
    expect(written).toBe(true);
    expect(response.status).toBeGreaterThanOrEqual(500);
  });
});
