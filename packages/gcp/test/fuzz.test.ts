import { EventTranslationError, SluiceError, triggers } from "@sluice/core";
import { mutatedEvents } from "@sluice/core/testing";
import { describe, expect, it } from "vitest";
import { translateDelivery } from "../src/adapter.js";
import { fromHttpRequest } from "../src/triggers/http.js";
import { fixedEnv, fixturesDir, jsonFilesUnder } from "./helpers.js";

/** Every CloudEvent-shaped GCP fixture and every push body: what the adapter's translators take. */
const seeds = jsonFilesUnder(fixturesDir)
  .filter(
    ({ name }) => !name.startsWith("http/") && !name.startsWith("framework-observed/http-") && name !== "framework-observed/index.json",
  )
  .map(({ json }) => json);
const deliveryTriggers = [
  triggers.objectCreated({ bucket: "sensor-raw" }),
  triggers.messages({ source: "topic", name: "sensor-batches" }),
  triggers.schedule({ cron: "0 * * * *" }),
];

describe("fuzzing the GCP translators with mutated real-shaped events", () => {
  const count = 5_000;

  it(`lets only EventTranslationError out of translation, for ${count} mutated events on every trigger`, () => {
    let accepted = 0;
    let rejected = 0;
    for (const event of mutatedEvents(seeds, count, 20261123)) {
      for (const trigger of deliveryTriggers) {
        for (const delivery of [
          { signature: "cloudEvent", event } as const,
          {
            signature: "http",
            request: { method: "POST", path: "/", search: "", headers: { "content-type": "application/json" } },
            json: event,
          } as const,
        ]) {
          try {
            translateDelivery(trigger, delivery, fixedEnv("sensor-batches"));
            accepted++;
          } catch (error) {
            if (!(error instanceof EventTranslationError)) {
              throw new Error(`untyped error for ${JSON.stringify(event)?.slice(0, 300)}`, { cause: error });
            }
            expect(error.provider).toBe("gcp");
            // translateDelivery wraps anything a translator let slip; the translators themselves must not.
            if (error.reason === "the payload could not be read" && error.cause instanceof Error) {
              throw new Error(`a translator threw ${error.cause.name} for ${JSON.stringify(event)?.slice(0, 300)}`, { cause: error.cause });
            }
            rejected++;
          }
        }
      }
    }
    // Both sides are exercised: a fuzzer that only produced garbage would prove little.
    expect(accepted).toBeGreaterThan(count / 10);
    expect(rejected).toBeGreaterThan(count / 10);
  });

  it("never fails on any header map or query string an HTTP request can carry", () => {
    const seedsHttp = jsonFilesUnder(fixturesDir)
      .filter(({ name }) => name.startsWith("http/") || name === "scheduler/http-target.json")
      .map(({ json }) => json);
    for (const mutated of mutatedEvents(seedsHttp, 2_000, 7)) {
      const raw = (mutated ?? {}) as Record<string, unknown>;
      const headers = Object.fromEntries(
        Object.entries(typeof raw.headers === "object" && raw.headers !== null ? raw.headers : {}).map(([name, value]) => [
          name.toLowerCase(),
          String(value),
        ]),
      );
      try {
        const event = fromHttpRequest(
          {
            method: String(raw.method ?? "GET"),
            path: String(raw.path ?? "/"),
            search: String(raw.query ?? ""),
            headers,
            body: String(raw.body ?? ""),
          },
          fixedEnv(),
        );
        expect(event.kind).toBe("http");
      } catch (error) {
        if (!(error instanceof SluiceError)) throw error;
      }
    }
  });
});
