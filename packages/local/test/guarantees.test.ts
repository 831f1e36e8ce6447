import {
  ConfigurationError,
  createLogger,
  defineFunction,
  destinations,
  HOPS_METADATA,
  objectStoreIdempotency,
  once,
  readAllBytes,
  triggers,
} from "@sluice/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalObjectStore, toLocal } from "../src/index.js";
import { tempRoot } from "./helpers.js";

let dir: { root: string; remove: () => Promise<void> };
beforeEach(async () => {
  dir = await tempRoot("guarantees");
});
afterEach(async () => dir.remove());

describe("no loops", () => {
  it("refuses a destination that writes where its own trigger watches", () => {
    const define = (prefix: string | undefined, key: (args: { event: { key?: string } }) => string, allowRecursion?: boolean) =>
      defineFunction({
        name: "loop",
        trigger: triggers.objectCreated({ bucket: "data", prefix }),
        destination: destinations.objectStore({ bucket: "data", key }),
        allowRecursion,
        handler: () => ({}),
      });
    expect(() => define("in/", ({ event }) => `${event.key}.json`)).toThrow(ConfigurationError);
    expect(() => define(undefined, ({ event }) => `reports/${event.key}`)).toThrow(/own trigger watches/);
    // Out of the watched prefix, or explicitly allowed: accepted.
    expect(() => define("in/", ({ event }) => `out/${event.key}.json`)).not.toThrow();
    expect(() => define("in/", ({ event }) => `${event.key}.json`, true)).not.toThrow();
  });

  it("refuses an onFailure that would trigger the function too", () => {
    expect(() =>
      defineFunction({
        name: "loop",
        trigger: triggers.objectCreated({ bucket: "data", suffix: ".ndjson" }),
        onFailure: destinations.objectStore({ bucket: "data", key: ({ event }) => `failed/${event.key}` }),
        handler: () => ({}),
      }),
    ).toThrow(ConfigurationError);
  });

  it("stops a loop at run time: outputs carry a hop count and the function stops writing at maxHops", async () => {
    const store = new LocalObjectStore({ root: dir.root });
    const failures: unknown[] = [];
    const fn = defineFunction({
      name: "echo",
      trigger: triggers.objectCreated({ bucket: "data" }),
      destination: destinations.objectStore({ bucket: "data", key: ({ event }) => `${event.key}+` }),
      onFailure: destinations.custom((report) => {
        failures.push(report);
      }),
      allowRecursion: true,
      maxHops: 3,
      handler: async (event) => event.text(),
    });
    const local = toLocal(fn, { store, logLevel: "error" });
    await store.put("data", "a", "payload");
    let key = "a";
    const statuses: string[] = [];
    for (let step = 0; step < 5; step++) {
      const outcome = await local.invoke({ kind: "object.created", bucket: "data", key });
      statuses.push(outcome.status);
      if (outcome.status !== "ok") break;
      key = `${key}+`;
      expect((await store.head("data", key))?.metadata?.[HOPS_METADATA]).toBe(String(step + 1));
    }
    expect(statuses).toEqual(["ok", "ok", "ok", "routed"]);
    expect(await store.head("data", "a++++")).toBeUndefined();
    expect(failures).toHaveLength(1);
    expect(JSON.stringify(failures[0])).toMatch(/maxHops 3/);
  });
});

describe("source object gone", () => {
  it("skips and logs an event whose object was deleted before it was read", async () => {
    const store = new LocalObjectStore({ root: dir.root });
    const fn = defineFunction({
      name: "reader",
      trigger: triggers.objectCreated({ bucket: "data" }),
      destination: destinations.objectStore({ bucket: "out", key: ({ event }) => `${event.key}.txt` }),
      handler: async (event) => event.text(),
    });
    const outcome = await toLocal(fn, { store, logLevel: "error" }).invoke({ kind: "object.created", bucket: "data", key: "vanished" });
    expect(outcome).toStrictEqual({ status: "ignored", reason: "source object no longer exists" });
  });
});

describe("failures are never lost", () => {
  it("fails the invocation (so the platform retries) when onFailure cannot be written", async () => {
    const store = new LocalObjectStore({ root: dir.root });
    const fn = defineFunction({
      name: "unwritable",
      trigger: triggers.objectCreated({ bucket: "data" }),
      // An invalid key makes the onFailure write fail, as a store that is down would.
      onFailure: destinations.objectStore({ bucket: "failed", key: () => "../escape" }),
      handler: () => {
        throw new Error("bad file");
      },
    });
    await store.put("data", "x", "1");
    const outcome = await toLocal(fn, { store, logLevel: "error" }).invoke({ kind: "object.created", bucket: "data", key: "x" });
    expect(outcome.status).toBe("failed");
  });

  it("writes a quarantined line that is too long to buffer with its head, and completes the file", async () => {
    const store = new LocalObjectStore({ root: dir.root });
    const fn = defineFunction({
      name: "long-lines",
      trigger: triggers.objectCreated({ bucket: "data" }),
      destination: destinations.objectStore({ bucket: "out", key: ({ event }) => `${event.key}.json` }),
      onFailure: destinations.objectStore({ bucket: "failed", key: ({ event }) => `${event.key}.ndjson` }),
      async handler(event) {
        const lines: number[] = [];
        for await (const line of event.numberedLines({ maxLineLength: 1000 })) lines.push(line.number);
        return lines;
      },
    });
    await store.put("data", "f", `a\n${"x".repeat(5000)}\nb\n`);
    const outcome = await toLocal(fn, { store, logLevel: "error" }).invoke({ kind: "object.created", bucket: "data", key: "f" });
    expect(outcome.status).toBe("ok");
    expect(JSON.parse(new TextDecoder().decode(await readAllBytes(await store.get("out", "f.json"))))).toEqual([1, 3]);
    const failure = JSON.parse(new TextDecoder().decode(await readAllBytes(await store.get("failed", "f.ndjson"))));
    expect(failure).toMatchObject({ line: 2, error: { code: "LINE_TOO_LONG" } });
    expect(failure.raw).toBe("x".repeat(5000));
  });
});

describe("no duplicate side effects", () => {
  it("runs an effect once across concurrent deliveries of the same event, and again after a failure", async () => {
    const store = new LocalObjectStore({ root: dir.root });
    const claims = objectStoreIdempotency(store, { bucket: "state", prefix: "claims/" });
    let sent = 0;
    const results = await Promise.all(Array.from({ length: 10 }, () => once(claims, "alert/event-1", () => ++sent)));
    expect(sent).toBe(1);
    expect(results.filter((result) => result.ran)).toHaveLength(1);

    await expect(once(claims, "alert/event-2", () => Promise.reject(new Error("mail server down")))).rejects.toThrow("mail server down");
    expect(await once(claims, "alert/event-2", () => "sent on retry")).toEqual({ ran: true, value: "sent on retry" });
    expect(await once(claims, "alert/event-2", () => "again")).toEqual({ ran: false });
  });

  it("refuses a store without conditional writes", () => {
    const store = new LocalObjectStore({ root: dir.root });
    // Every ObjectStore method but the conditional write: the refusal must be about that one.
    const withoutConditional = {
      get: store.get.bind(store),
      put: store.put.bind(store),
      head: store.head.bind(store),
      list: store.list.bind(store),
      delete: store.delete.bind(store),
    };
    expect(() => objectStoreIdempotency(withoutConditional, { bucket: "state" })).toThrow(ConfigurationError);
    expect(() =>
      objectStoreIdempotency({ ...withoutConditional, putIfAbsent: store.putIfAbsent.bind(store) }, { bucket: "state" }),
    ).not.toThrow();
  });
});

describe("logs", () => {
  it("never carry payloads: not a quarantined line, a failed message's body or a request body", async () => {
    const store = new LocalObjectStore({ root: dir.root });
    const lines: string[] = [];
    const log = createLogger({ level: "debug", write: (line) => lines.push(line) });
    const secret = "card=4111111111111111;password=hunter2";
    await store.put("data", "in.ndjson", `${secret}\n{"ok":true}\n`);
    const objects = defineFunction({
      name: "quarantines",
      trigger: triggers.objectCreated({ bucket: "data" }),
      destination: destinations.objectStore({ bucket: "out", key: ({ event }) => `${event.key}.json` }),
      async handler(event, ctx) {
        for await (const line of event.numberedLines()) {
          try {
            JSON.parse(line.text);
          } catch (error) {
            ctx.quarantine({ error, line: line.number, raw: line.text });
          }
        }
        throw new Error("file rejected");
      },
    });
    await toLocal(objects, { store, log }).invoke({ kind: "object.created", bucket: "data", key: "in.ndjson" });
    const messages = defineFunction({
      name: "fails-messages",
      trigger: triggers.messages({ source: "queue", name: "q" }),
      handler: (event) => event.each(() => Promise.reject(new Error("no"))),
    });
    await toLocal(messages, { store, log }).invoke({ kind: "messages", source: "queue", name: "q", messages: [{ id: "1", body: secret }] });
    const web = defineFunction({ name: "web", trigger: triggers.http(), handler: () => Promise.reject(new Error("boom")) });
    await toLocal(web, { store, log }).invoke({ kind: "http", method: "POST", path: "/", body: secret });

    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) {
      expect(line).not.toContain("4111111111111111");
      expect(line).not.toContain("hunter2");
    }
  });
});
