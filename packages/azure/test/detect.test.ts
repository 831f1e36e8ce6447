import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { HttpRequest } from "@azure/functions";
import { describe, expect, it } from "vitest";
import { DETECTION_RULES, detectSource } from "../src/detect.js";
import { callsOf, fixturesRoot, jsonFilesUnder, loadFixture } from "./helpers.js";

/** The source each fixture directory holds. */
const SOURCE_OF_DIRECTORY: Record<string, string> = {
  eventgrid: "event-grid",
  "eventgrid-cloudevents": "cloudevents",
  "blob-trigger": "blob-trigger",
  "storage-queue": "storage-queue",
  "service-bus": "service-bus",
  "event-hubs": "event-hubs",
  timer: "timer",
  http: "http",
};

interface Sample {
  name: string;
  source: string;
  input: unknown;
  triggerMetadata: unknown;
}

function azureSamples(): Sample[] {
  const samples: Sample[] = [];
  for (const path of jsonFilesUnder(fixturesRoot)) {
    const directory = path.split("/")[0] as string;
    const source = SOURCE_OF_DIRECTORY[directory];
    if (!source) continue;
    const fixture = loadFixture(path);
    if (fixture.requestInit) {
      samples.push({ name: path, source, input: new HttpRequest(fixture.requestInit), triggerMetadata: undefined });
      continue;
    }
    for (const [index, call] of callsOf(fixture).entries()) {
      samples.push({ name: `${path}#${index}`, source, input: call.input, triggerMetadata: call.triggerMetadata });
    }
    // What Event Grid POSTs, whole: the shape a raw-HTTP endpoint would parse.
    if (fixture.deliveredBody !== undefined) {
      samples.push({ name: `${path}#body`, source, input: fixture.deliveredBody, triggerMetadata: undefined });
    }
  }
  return samples;
}

const samples = azureSamples();

describe("detection matrix", () => {
  it("covers every source and every fixture directory", () => {
    expect(new Set(samples.map((sample) => sample.source))).toEqual(new Set(DETECTION_RULES.map((rule) => rule.source)));
    expect(samples.length).toBeGreaterThanOrEqual(30);
  });

  for (const rule of DETECTION_RULES) {
    it(`${rule.source}: accepts its own fixtures and rejects every other Azure fixture`, () => {
      for (const sample of samples) {
        expect({ sample: sample.name, matches: rule.matches(sample.input, sample.triggerMetadata) }).toEqual({
          sample: sample.name,
          matches: sample.source === rule.source,
        });
      }
    });
  }

  it("tells every Azure fixture's source apart with detectSource", () => {
    for (const sample of samples)
      expect([sample.name, detectSource(sample.input, sample.triggerMetadata)]).toEqual([sample.name, sample.source]);
  });

  for (const cloud of ["aws", "gcp"]) {
    const root = fileURLToPath(new URL(`../../${cloud}/test/fixtures/`, import.meta.url));
    const files = jsonFilesUnder(root);
    it(`rejects all ${files.length} ${cloud.toUpperCase()} fixtures, as input and as trigger metadata`, () => {
      expect(files.length).toBeGreaterThan(20);
      for (const file of files) {
        const native = JSON.parse(readFileSync(join(root, file), "utf8"));
        for (const [input, metadata] of [
          [native, undefined],
          [native, native],
          [native.event ?? native.body ?? native, native.context],
        ]) {
          for (const rule of DETECTION_RULES)
            expect([file, rule.source, rule.matches(input, metadata)]).toEqual([file, rule.source, false]);
        }
      }
    });
  }
});
