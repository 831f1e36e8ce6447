import { readdirSync, readFileSync } from "node:fs";
import { defineFunction, SluiceError, type SluiceFunction, silentLogger, triggers } from "@sluice/core";
import { mutatedEvents } from "@sluice/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromLocalEvent, LocalObjectStore, toLocal } from "../src/index.js";
import { tempRoot } from "./helpers.js";

const fixtureDir = new URL("./fixtures/event-file/", import.meta.url);
const seeds: unknown[] = [
  ...readdirSync(fixtureDir).map((name) => JSON.parse(readFileSync(new URL(name, fixtureDir), "utf8"))),
  { kind: "http", method: "POST", path: "/a", headers: { "content-type": "application/json" }, query: { a: ["1", "2"] }, body: '{"x":1}' },
  { kind: "schedule", id: "s", time: "2026-11-23T14:00:00Z", schedule: "hourly" },
  { kind: "invoke", payload: { nested: [1, 2, { deep: true }] } },
  { kind: "object.deleted", bucket: "sensor-raw", key: "readings/a" },
];

let dir: { root: string; remove: () => Promise<void> };
beforeAll(async () => {
  dir = await tempRoot("fuzz");
});
afterAll(async () => dir.remove());

describe("fuzzing the local provider", () => {
  const count = 10_000;

  it(`lets only Sluice's typed errors out of translation, for ${count} mutated events`, () => {
    let accepted = 0;
    let rejected = 0;
    for (const event of mutatedEvents(seeds, count, 20261123)) {
      try {
        fromLocalEvent(event, () => "2026-11-23T00:00:00.000Z");
        accepted++;
      } catch (error) {
        if (!(error instanceof SluiceError)) throw new Error(`untyped error for ${JSON.stringify(event)?.slice(0, 300)}`, { cause: error });
        rejected++;
      }
    }
    // Both sides are exercised: a fuzzer that only ever produced garbage would prove little.
    expect(accepted).toBeGreaterThan(count / 20);
    expect(rejected).toBeGreaterThan(count / 20);
  });

  it("runs mutated events end to end without an untyped error or a hang", async () => {
    const store = new LocalObjectStore({ root: dir.root });
    const fns: SluiceFunction[] = [
      defineFunction({
        name: "f-object",
        trigger: triggers.objectCreated({ bucket: "sensor-raw" }),
        handler: async (event) => (await event.text()).length,
      }),
      defineFunction({ name: "f-http", trigger: triggers.http(), handler: async (event) => event.json() }),
      defineFunction({
        name: "f-messages",
        trigger: triggers.messages({ source: "queue", name: "q" }),
        handler: (event) => event.each((m) => m.json()),
      }),
    ];
    const locals = fns.map((fn) => toLocal(fn, { store, log: silentLogger }));
    let outcomes = 0;
    for (const event of mutatedEvents(seeds, 2_000, 7)) {
      for (const local of locals) {
        try {
          const outcome = await local.invoke(event);
          expect(["ok", "ignored", "routed", "failed", "http", "messages"]).toContain(outcome.status);
          outcomes++;
        } catch (error) {
          if (!(error instanceof SluiceError))
            throw new Error(`untyped error for ${JSON.stringify(event)?.slice(0, 300)}`, { cause: error });
        }
      }
    }
    expect(outcomes).toBeGreaterThan(0);
  });
});
