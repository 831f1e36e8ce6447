import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { readAllBytes } from "@sluice/core";
import { LocalObjectStore, toLocal } from "@sluice/local";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FileReport } from "../src/analysis.js";
import { configFromEnv, createAnalyzeSensors } from "../src/function.js";
import { firehoseKey, generateFirehoseFiles } from "../src/generate.js";
import { parseReading } from "../src/readings.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-sensors-"));
});
afterEach(async () => rm(root, { recursive: true, force: true }));

const config = configFromEnv({});
const text = async (store: LocalObjectStore, bucket: string, key: string) =>
  new TextDecoder().decode(await readAllBytes(await store.get(bucket, key)));

describe("the Firehose simulator", () => {
  it("names objects with Firehose's key layout, in UTC", () => {
    expect(firehoseKey("sensor-stream", new Date("2026-11-23T09:05:07Z"), "3f1c9a2e-7b1d-4c55-9a0e-2b8f6d1e4a10")).toBe(
      "readings/2026/11/23/09/sensor-stream-1-2026-11-23-09-05-07-3f1c9a2e-7b1d-4c55-9a0e-2b8f6d1e4a10",
    );
  });

  it("is deterministic for a seed, and counts exactly the lines it breaks", () => {
    const files = [...generateFirehoseFiles({ sensors: 5, hours: 1, badLineRate: 0.05, seed: 7 })];
    const again = [...generateFirehoseFiles({ sensors: 5, hours: 1, badLineRate: 0.05, seed: 7 })];
    expect(again.map((file) => file.key)).toEqual(files.map((file) => file.key));
    expect(files).toHaveLength(4);
    for (const file of files) {
      const lines = new TextDecoder().decode(file.body).trim().split("\n");
      const valid = lines.filter((line) => {
        try {
          parseReading(line);
          return true;
        } catch {
          return false;
        }
      });
      expect([valid.length, lines.length - valid.length]).toEqual([file.readings, file.badLines]);
    }
    expect(files.reduce((sum, file) => sum + file.badLines, 0)).toBeGreaterThan(0);
  });
});

describe("the analysis function on the local provider", () => {
  for (const gzip of [false, true]) {
    it(`analyses generated ${gzip ? "gzip " : ""}files: one report per object, every bad line quarantined with its line number`, async () => {
      const store = new LocalObjectStore({ root });
      const local = toLocal(createAnalyzeSensors(config), { store, logLevel: "error" });
      const files = [...generateFirehoseFiles({ sensors: 8, hours: 1, badLineRate: 0.02, gzip, seed: 11 })];
      for (const file of files) {
        await store.put(config.rawBucket, file.key, file.body);
        const outcome = await local.invoke({ kind: "object.created", bucket: config.rawBucket, key: file.key, size: file.body.length });
        expect(outcome.status).toBe("ok");
        const report = JSON.parse(await text(store, config.reportBucket, `reports/${file.key}.json`)) as FileReport;
        expect(report.source).toStrictEqual({ bucket: config.rawBucket, key: file.key });
        expect([report.readings, report.badLines]).toEqual([file.readings, file.badLines]);
        expect(report.sensorCount).toBe(8);
        const plain = new TextDecoder().decode(gzip ? gunzipSync(file.body) : file.body).split("\n");
        if (file.badLines > 0) {
          const quarantined = (await text(store, config.quarantineBucket, `failed/${file.key}.ndjson`))
            .trim()
            .split("\n")
            .map((line) => JSON.parse(line));
          expect(quarantined).toHaveLength(file.badLines);
          for (const record of quarantined) {
            // The line number points at the very line that was quarantined.
            expect(plain[record.line - 1]).toBe(record.raw);
            expect(record.error.name).toBe("BadReadingError");
            expect(record.event).toMatchObject({ bucket: config.rawBucket, key: file.key });
          }
        }
      }
    });
  }

  it("analyses records written back to back with no delimiter exactly as newline-delimited ones", async () => {
    const store = new LocalObjectStore({ root });
    const local = toLocal(createAnalyzeSensors(config), { store, logLevel: "error" });
    const [lines] = generateFirehoseFiles({ sensors: 5, hours: 0.25, seed: 5, badLineRate: 0.05 });
    const [packed] = generateFirehoseFiles({ sensors: 5, hours: 0.25, seed: 5, badLineRate: 0.05, delimiter: "none" });
    if (!lines || !packed) throw new Error("generator produced nothing");
    expect(new TextDecoder().decode(packed.body)).toContain("}{");
    await store.put(config.rawBucket, "readings/lines", lines.body);
    await store.put(config.rawBucket, "readings/packed", packed.body);
    for (const key of ["readings/lines", "readings/packed"]) await local.invoke({ kind: "object.created", bucket: config.rawBucket, key });
    const [fromLines, fromPacked] = await Promise.all(
      ["lines", "packed"].map(async (name) => ({
        ...(JSON.parse(await text(store, config.reportBucket, `reports/readings/${name}.json`)) as FileReport),
        source: null,
      })),
    );
    expect(fromPacked?.readings).toBe(lines.readings);
    expect(fromPacked?.badLines).toBe(lines.badLines);
    expect(fromPacked?.sensors).toStrictEqual(fromLines?.sensors);
  });

  it("produces the same report from a gzip object as from the plain one", async () => {
    const store = new LocalObjectStore({ root });
    const local = toLocal(createAnalyzeSensors(config), { store, logLevel: "error" });
    const [plain] = generateFirehoseFiles({ sensors: 4, hours: 0.25, seed: 3 });
    const [zipped] = generateFirehoseFiles({ sensors: 4, hours: 0.25, seed: 3, gzip: true });
    if (!plain || !zipped) throw new Error("generator produced nothing");
    await store.put(config.rawBucket, "readings/plain", plain.body);
    await store.put(config.rawBucket, "readings/zipped", zipped.body);
    for (const key of ["readings/plain", "readings/zipped"]) await local.invoke({ kind: "object.created", bucket: config.rawBucket, key });
    const reports = await Promise.all(
      ["plain", "zipped"].map(async (name) => {
        const report = JSON.parse(await text(store, config.reportBucket, `reports/readings/${name}.json`)) as FileReport;
        return { ...report, source: null };
      }),
    );
    expect(reports[1]).toStrictEqual(reports[0]);
  });

  it("ignores objects outside readings/ and never runs on deletions", async () => {
    const store = new LocalObjectStore({ root });
    const local = toLocal(createAnalyzeSensors(config), { store, logLevel: "error" });
    expect((await local.invoke({ kind: "object.created", bucket: config.rawBucket, key: "other/x" })).status).toBe("ignored");
    expect((await local.invoke({ kind: "object.deleted", bucket: config.rawBucket, key: "readings/x" })).status).toBe("ignored");
  });
});
