import { randomInt } from "node:crypto";
import { readAllBytes } from "@sluice/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inject } from "vitest";
import type { GeneratedFile } from "../../../examples/sensor-pipeline/src/generate.js";
import { generateFirehoseFiles } from "../../../examples/sensor-pipeline/src/generate.js";
import { GcsObjectStore } from "../src/index.js";
import { deliver } from "./framework.js";
import { emulatorStorage } from "./helpers.js";

const storage = emulatorStorage();
const store = new GcsObjectStore({ storage });
const saved = process.env.STORAGE_EMULATOR_HOST;

beforeAll(async () => {
  // The example entry uses the default client, as it would when deployed; the standard variable points
  // that client at the emulator. (Tests elsewhere pass apiEndpoint instead, which this would override.)
  process.env.STORAGE_EMULATOR_HOST = inject("gcsEmulator").url;
  // Importing the entry registers `analyze-sensors` and `roll-up-hourly` with the Functions Framework, as --target would load it.
  await import("../../../examples/sensor-pipeline/src/gcp.js");
});

afterAll(() => {
  if (saved === undefined) delete process.env.STORAGE_EMULATOR_HOST;
  else process.env.STORAGE_EMULATOR_HOST = saved;
});

/** The finalized CloudEvent Eventarc would send for an object, built from the object's real metadata. */
async function finalizedEventFor(bucket: string, key: string) {
  const [metadata] = await storage.bucket(bucket).file(key).getMetadata();
  return {
    specversion: "1.0",
    id: String(randomInt(2 ** 47)),
    source: `//storage.googleapis.com/projects/_/buckets/${bucket}`,
    type: "google.cloud.storage.object.v1.finalized",
    subject: `objects/${key}`,
    // Eventarc's time has microseconds; the object's timeCreated has milliseconds.
    time: String(metadata.timeCreated).replace(/Z$/, "482Z"),
    bucket,
    data: metadata,
  };
}

async function readText(bucket: string, key: string): Promise<string> {
  return new TextDecoder().decode(await readAllBytes(await store.get(bucket, key)));
}

function pick(options: Parameters<typeof generateFirehoseFiles>[0]): GeneratedFile {
  // The first file with bad lines, so that quarantine has something to find.
  for (const file of generateFirehoseFiles(options)) if (file.badLines > 0) return file;
  throw new Error("the generator made no file with bad lines");
}

describe("the sensor pipeline on the Functions Framework and the Cloud Storage emulator", () => {
  const files = [
    pick({ sensors: 8, hours: 2, badLineRate: 0.01, seed: 7, stream: `e2e-plain-${Date.now()}` }),
    pick({ sensors: 8, hours: 2, badLineRate: 0.01, seed: 11, gzip: true, stream: `e2e-gzip-${Date.now()}` }),
  ];

  for (const file of files) {
    it(`analyses a ${file.gzip ? "gzip" : "plain"} Firehose file: report in sensor-reports, bad lines in sensor-quarantine`, async () => {
      // Firehose writes gzip without Content-Encoding and without a .gz name: the reader sniffs the bytes.
      await storage
        .bucket("sensor-raw")
        .file(file.key)
        .save(Buffer.from(file.body), { contentType: "application/octet-stream", resumable: false });
      const event = await finalizedEventFor("sensor-raw", file.key);
      expect(event.data.name).toBe(file.key);

      const response = await deliver("analyze-sensors", { kind: "cloudevent", mode: "binary", event });
      expect(response.status).toBe(204);

      const report = JSON.parse(await readText("sensor-reports", `reports/${file.key}.json`));
      expect(report.source).toEqual({ bucket: "sensor-raw", key: file.key });
      expect(report.readings).toBe(file.readings);
      expect(report.badLines).toBe(file.badLines);
      expect(report.sensorCount).toBe(8);

      const quarantined = (await readText("sensor-quarantine", `failed/${file.key}.ndjson`))
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));
      expect(quarantined).toHaveLength(file.badLines);
      for (const record of quarantined) {
        expect(record).toMatchObject({ function: "analyze-sensors", provider: "gcp", event: { kind: "object.created", key: file.key } });
        expect(record.line).toBeGreaterThan(0);
      }
    });
  }

  it("rolls the hour's reports up when the report's own finalized event reaches roll-up-hourly", async () => {
    const file = files[0] as GeneratedFile;
    const reportKey = `reports/${file.key}.json`;
    const response = await deliver("roll-up-hourly", {
      kind: "cloudevent",
      mode: "binary",
      event: await finalizedEventFor("sensor-reports", reportKey),
    });
    expect(response.status).toBe(204);
    // readings/YYYY/MM/DD/HH/… → rollups/YYYY-MM-DD/HH.json
    const [, year, month, day, hour] = /^readings\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\//.exec(file.key) ?? [];
    const rollup = JSON.parse(await readText("sensor-reports", `rollups/${year}-${month}-${day}/${hour}.json`));
    // Every file of this test run in that hour was analysed above, so the roll-up covers exactly those reports.
    const sameHour = files.filter((other) => other.key.startsWith(`readings/${year}/${month}/${day}/${hour}/`));
    expect(rollup.reports).toEqual(sameHour.map((other) => `reports/${other.key}.json`).sort());
    expect(rollup.readings).toBe(sameHour.reduce((sum, other) => sum + other.readings, 0));
    expect(rollup.badLines).toBe(sameHour.reduce((sum, other) => sum + other.badLines, 0));
  });

  it("acknowledges an object outside readings/ without writing a report", async () => {
    const key = `uploads/${Date.now()}.ndjson`;
    await storage.bucket("sensor-raw").file(key).save("{}\n", { resumable: false });
    const response = await deliver("analyze-sensors", {
      kind: "cloudevent",
      mode: "structured",
      event: await finalizedEventFor("sensor-raw", key),
    });
    expect(response.status).toBe(204);
    expect(await store.head("sensor-reports", `reports/${key}.json`)).toBeUndefined();
  });
});
