import { appendFile, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { defineFunction, destinations, triggers, type ObjectEventData, type Outcome } from "@sluice/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalObjectStore, toLocal } from "../src/index.js";
import { tempRoot } from "./helpers.js";

let dir: { root: string; remove: () => Promise<void> };
beforeEach(async () => {
  dir = await tempRoot("watch");
});
afterEach(async () => dir.remove());

describe("watching a bucket", () => {
  it("runs the function once per new file, never on a file still being written, and not on files already there", async () => {
    const store = new LocalObjectStore({ root: dir.root });
    await store.put("raw", "readings/old.ndjson", "old\n");
    const fn = defineFunction({
      name: "count-lines",
      trigger: triggers.objectCreated({ bucket: "raw", prefix: "readings/" }),
      destination: destinations.objectStore({ bucket: "out", key: ({ event }) => `${event.key}.json` }),
      async handler(event) {
        let lines = 0;
        for await (const _line of event.lines()) lines++;
        return { lines };
      },
    });
    const outcomes: Array<[string, Outcome["status"]]> = [];
    const watch = toLocal(fn, { store, logLevel: "error" }).watch({
      intervalMs: 20,
      onOutcome: (event, outcome) => outcomes.push([event.key, outcome.status]),
    });
    try {
      await watch.idle();
      // A writer that appends in several steps, slower than the scan interval.
      const growing = join(dir.root, "raw", "readings", "growing.ndjson");
      await mkdir(join(dir.root, "raw", "readings"), { recursive: true });
      await writeFile(growing, "1\n");
      for (const line of ["2\n", "3\n"]) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        await appendFile(growing, line);
      }
      await store.put("raw", "readings/whole.ndjson", "a\nb\n");
      await store.put("raw", "elsewhere/skip.ndjson", "x\n");
      await new Promise((resolve) => setTimeout(resolve, 120));
      await watch.idle();
    } finally {
      await watch.close();
    }
    const created = outcomes.filter(([key]) => key.startsWith("readings/"));
    expect(created.map(([key]) => key).sort()).toEqual(["readings/growing.ndjson", "readings/whole.ndjson"]);
    const growingReport = JSON.parse(await new Response(await store.get("out", "readings/growing.ndjson.json")).text());
    expect(growingReport).toEqual({ lines: 3 });
    expect(await store.head("out", "readings/old.ndjson.json")).toBeUndefined();
    expect(outcomes).toContainEqual(["elsewhere/skip.ndjson", "ignored"]);
  });

  it("emits object.deleted for a file that disappears", async () => {
    const store = new LocalObjectStore({ root: dir.root });
    const seen: ObjectEventData[] = [];
    const fn = defineFunction({
      name: "on-delete",
      trigger: triggers.objectDeleted({ bucket: "raw" }),
      async handler(event) {
        seen.push(event);
      },
    });
    const watch = toLocal(fn, { store, logLevel: "error" }).watch({ intervalMs: 20 });
    try {
      await store.put("raw", "a.txt", "x");
      await new Promise((resolve) => setTimeout(resolve, 80));
      await watch.idle();
      await rm(join(dir.root, "raw", "a.txt"));
      await watch.idle();
    } finally {
      await watch.close();
    }
    expect(seen.map((event) => [event.kind, event.key])).toEqual([["object.deleted", "a.txt"]]);
  });

  it("retries a failing event as a cloud would, then reports it failed", async () => {
    const store = new LocalObjectStore({ root: dir.root });
    let attempts = 0;
    const fn = defineFunction({
      name: "always-fails",
      trigger: triggers.objectCreated({ bucket: "raw" }),
      async handler() {
        attempts++;
        throw new Error("broken");
      },
    });
    const outcomes: Outcome["status"][] = [];
    const watch = toLocal(fn, { store, log: undefined, logLevel: "error" }).watch({
      intervalMs: 20,
      retries: 2,
      onOutcome: (_event, outcome) => outcomes.push(outcome.status),
    });
    try {
      await watch.idle();
      await store.put("raw", "a.txt", "x");
      await new Promise((resolve) => setTimeout(resolve, 80));
      await watch.idle();
    } finally {
      await watch.close();
    }
    expect(attempts).toBe(3);
    expect(outcomes).toEqual(["failed"]);
  });
});
