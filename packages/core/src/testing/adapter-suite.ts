import { describe, expect, it } from "vitest";
import { destinations } from "../destinations.js";
import { EventTranslationError } from "../errors.js";
import type { ProviderName } from "../errors.js";
import type { NeutralEvent } from "../events.js";
import { defineFunction, type SluiceFunction } from "../function.js";
import { readAllBytes } from "../runtime/lines.js";
import type { ObjectStore } from "../store.js";
import { triggers } from "../triggers.js";

/** What became of one native invocation, read from the platform's own answer by the adapter's test glue. */
export interface ContractInvocation {
  /** The platform would count this invocation as a success (no retry of the whole event). */
  ok: boolean;
  /** What the invocation threw, if it threw (in-process adapters). */
  error?: unknown;
  /** For message batches: the ids the platform is told to retry. */
  failedMessageIds?: string[];
  /** For HTTP: the response as the client would see it. */
  http?: { status: number; headers: Record<string, string>; body: string };
}

/** A native message batch built for the suite, with the ids the platform knows its messages by. */
export interface ContractMessages {
  native: unknown;
  ids: string[];
}

/**
 * The provider under test, as the contract suite sees it. `native.*` builders make events in the exact
 * shape the platform sends (usually a fixture with the bucket and key replaced).
 */
export interface ContractAdapter {
  provider: ProviderName;
  /** The store the adapter's functions read and write; these buckets exist in it. */
  store(): ObjectStore | Promise<ObjectStore>;
  buckets: { source: string; output: string; failures: string };
  /** Runs `fn` on a native event through the provider's real entry point. */
  invoke(fn: SluiceFunction, native: unknown): Promise<ContractInvocation>;
  native: {
    objectCreated(object: { bucket: string; key: string; size: number; etag?: string }): unknown;
    objectDeleted?(object: { bucket: string; key: string }): unknown;
    http?(request: {
      method: string;
      path: string;
      query: Record<string, string[]>;
      headers: Record<string, string>;
      body?: string;
    }): unknown;
    schedule?(): unknown;
    /** A batch of messages with these bodies; `maxBatch` says how many one native event can carry. */
    messages?(bodies: string[]): ContractMessages;
    invoke?(payload: unknown): unknown;
  };
  /** How many messages one native event can carry (1 for push-style platforms). Default 10. */
  maxBatch?: number;
  /** The trigger options for message functions, e.g. `{ source: "queue", name: "readings" }`. */
  messagesTrigger?: { source: "queue" | "topic" | "stream"; name: string };
  /** Native payloads that are not events: each must fail with an EventTranslationError. */
  malformed: Array<{ name: string; event: unknown }>;
  /**
   * Set, with the reason, when the platform itself answers an HTTP request whose JSON body does not
   * parse, before the function runs (Google's Functions Framework does, from its body parser). The suite
   * then checks that answer (400, no stack trace) instead of the adapter's message.
   */
  platformRejectsMalformedJson?: string;
}

const ISO_UTC_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function unique(label: string): string {
  return `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

async function readText(store: ObjectStore, bucket: string, key: string): Promise<string> {
  return new TextDecoder().decode(await readAllBytes(await store.get(bucket, key)));
}

function noUnsafeIntegers(value: unknown, path = "event"): string[] {
  if (typeof value === "number" && Number.isInteger(value) && !Number.isSafeInteger(value)) return [path];
  if (Array.isArray(value)) return value.flatMap((item, index) => noUnsafeIntegers(item, `${path}[${index}]`));
  if (value && typeof value === "object" && !(value instanceof Uint8Array)) {
    return Object.entries(value).flatMap(([key, item]) => noUnsafeIntegers(item, `${path}.${key}`));
  }
  return [];
}

/**
 * The adapter contract: the same behaviour asserted for every provider — translation of each trigger
 * kind it supports, filters that hold at run time, deletions never delivered as creations, typed
 * errors for malformed input, destination and onFailure delivery, and exact per-message failures.
 *
 * @example
 * ```ts
 * describeAdapterContract({ provider: "aws", store: () => s3Store, buckets, invoke, native, malformed });
 * ```
 */
export function describeAdapterContract(adapter: ContractAdapter): void {
  const { source, output, failures } = adapter.buckets;

  describe(`adapter contract: ${adapter.provider}`, () => {
    describe("object events", () => {
      async function seed(key: string, content: string) {
        const store = await adapter.store();
        await store.put(source, key, content, { contentType: "application/x-ndjson" });
        const info = await store.head(source, key);
        return { store, size: info?.size ?? content.length, etag: info?.etag };
      }

      it("delivers object.created with the neutral fields and readers, and writes the result", async () => {
        const key = `contract/${unique("created")}/readings.ndjson`;
        const { store, size, etag } = await seed(key, '{"a":1}\n{"a":2}\n');
        const seen: NeutralEvent[] = [];
        const fn = defineFunction({
          name: "contract-created",
          trigger: triggers.objectCreated({ bucket: source, prefix: "contract/" }),
          destination: destinations.objectStore({ bucket: output, key: ({ event }) => `out/${event.key}.json` }),
          async handler(event) {
            seen.push(event);
            const lines: string[] = [];
            for await (const line of event.lines()) lines.push(line);
            return { lines, text: await event.text() };
          },
        });
        const result = await adapter.invoke(fn, adapter.native.objectCreated({ bucket: source, key, size, etag }));
        expect(result.error).toBeUndefined();
        expect(result.ok).toBe(true);
        expect(seen).toHaveLength(1);
        const event = seen[0] as NeutralEvent & { kind: "object.created" };
        expect(event.kind).toBe("object.created");
        expect(event.provider).toBe(adapter.provider);
        expect(event.bucket).toBe(source);
        expect(event.key).toBe(key);
        expect(event.time).toMatch(ISO_UTC_MILLIS);
        expect(typeof event.id).toBe("string");
        expect(event.id.length).toBeGreaterThan(0);
        if (event.etag !== undefined) expect(event.etag).not.toMatch(/"/);
        if (event.size !== undefined) expect(event.size).toBe(size);
        expect(noUnsafeIntegers({ ...event })).toEqual([]);
        const written = JSON.parse(await readText(store, output, `out/${key}.json`));
        expect(written).toEqual({ lines: ['{"a":1}', '{"a":2}'], text: '{"a":1}\n{"a":2}\n' });
      });

      it("delivers a key with spaces, '+' and Unicode exactly as stored", async () => {
        const key = `contract/${unique("odd")}/día 1+2 @ naïve 🚀.ndjson`;
        const { size, etag } = await seed(key, "x\n");
        const keys: string[] = [];
        const fn = defineFunction({
          name: "contract-odd-key",
          trigger: triggers.objectCreated({ bucket: source, prefix: "contract/" }),
          async handler(event) {
            keys.push(event.key);
            return undefined;
          },
        });
        const result = await adapter.invoke(fn, adapter.native.objectCreated({ bucket: source, key, size, etag }));
        expect(result.ok).toBe(true);
        expect(keys).toEqual([key]);
      });

      it("acknowledges without running the handler an object outside the prefix, the suffix or the bucket", async () => {
        let calls = 0;
        const fn = defineFunction({
          name: "contract-filtered",
          trigger: triggers.objectCreated({ bucket: source, prefix: "contract/only-here/", suffix: ".ndjson" }),
          async handler() {
            calls++;
          },
        });
        for (const object of [
          { bucket: source, key: `contract/elsewhere/${unique("x")}.ndjson` },
          { bucket: source, key: `contract/only-here/${unique("x")}.csv` },
          { bucket: output, key: `contract/only-here/${unique("x")}.ndjson` },
        ]) {
          const result = await adapter.invoke(fn, adapter.native.objectCreated({ ...object, size: 1 }));
          expect(result.ok).toBe(true);
        }
        expect(calls).toBe(0);
      });

      if (adapter.native.objectDeleted) {
        const deleted = adapter.native.objectDeleted.bind(adapter.native);
        it("never delivers a deletion to an object.created function, and delivers it to an object.deleted one", async () => {
          const key = `contract/${unique("deleted")}/gone.ndjson`;
          const createdCalls: string[] = [];
          const created = defineFunction({
            name: "contract-not-deleted",
            trigger: triggers.objectCreated({ bucket: source, prefix: "contract/" }),
            async handler(event) {
              createdCalls.push(event.key);
            },
          });
          expect((await adapter.invoke(created, deleted({ bucket: source, key }))).ok).toBe(true);
          expect(createdCalls).toEqual([]);

          const seen: NeutralEvent[] = [];
          const onDelete = defineFunction({
            name: "contract-deleted",
            trigger: triggers.objectDeleted({ bucket: source, prefix: "contract/" }),
            async handler(event) {
              seen.push(event);
            },
          });
          expect((await adapter.invoke(onDelete, deleted({ bucket: source, key }))).ok).toBe(true);
          expect(seen.map((event) => [event.kind, (event as { key?: string }).key])).toEqual([["object.deleted", key]]);
          expect((seen[0] as { time: string }).time).toMatch(ISO_UTC_MILLIS);
        });
      }

      it("routes a failing handler's event to onFailure and acknowledges it", async () => {
        const key = `contract/${unique("fails")}/bad.ndjson`;
        const { store, size, etag } = await seed(key, "not json\n");
        const fn = defineFunction({
          name: "contract-routed",
          trigger: triggers.objectCreated({ bucket: source, prefix: "contract/" }),
          onFailure: destinations.objectStore({ bucket: failures, key: ({ event }) => `failed/${event.key}.ndjson` }),
          async handler() {
            throw new Error("cannot analyse this file");
          },
        });
        const result = await adapter.invoke(fn, adapter.native.objectCreated({ bucket: source, key, size, etag }));
        expect(result.ok).toBe(true);
        const lines = (await readText(store, failures, `failed/${key}.ndjson`))
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line));
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatchObject({
          function: "contract-routed",
          provider: adapter.provider,
          event: { kind: "object.created", bucket: source, key },
          error: { message: "cannot analyse this file" },
        });
      });

      it("fails the invocation, so the platform retries, when a handler fails with no onFailure", async () => {
        const key = `contract/${unique("retry")}/a.ndjson`;
        const { size, etag } = await seed(key, "x\n");
        const fn = defineFunction({
          name: "contract-retried",
          trigger: triggers.objectCreated({ bucket: source, prefix: "contract/" }),
          async handler() {
            throw new Error("transient");
          },
        });
        const result = await adapter.invoke(fn, adapter.native.objectCreated({ bucket: source, key, size, etag }));
        expect(result.ok).toBe(false);
      });

      it("sends quarantined records to onFailure with their line numbers while the result is still written", async () => {
        const key = `contract/${unique("quarantine")}/mixed.ndjson`;
        const { store, size, etag } = await seed(key, '{"v":1}\nnot json\n{"v":3}\n');
        const fn = defineFunction({
          name: "contract-quarantine",
          trigger: triggers.objectCreated({ bucket: source, prefix: "contract/" }),
          destination: destinations.objectStore({ bucket: output, key: ({ event }) => `out/${event.key}.json` }),
          onFailure: destinations.objectStore({ bucket: failures, key: ({ event }) => `failed/${event.key}.ndjson` }),
          async handler(event, ctx) {
            let good = 0;
            for await (const line of event.numberedLines()) {
              try {
                JSON.parse(line.text);
                good++;
              } catch (error) {
                ctx.quarantine({ error, line: line.number, raw: line.text });
              }
            }
            return { good };
          },
        });
        const result = await adapter.invoke(fn, adapter.native.objectCreated({ bucket: source, key, size, etag }));
        expect(result.ok).toBe(true);
        expect(JSON.parse(await readText(store, output, `out/${key}.json`))).toEqual({ good: 2 });
        const quarantined = (await readText(store, failures, `failed/${key}.ndjson`))
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line));
        expect(quarantined).toHaveLength(1);
        expect(quarantined[0]).toMatchObject({ line: 2, raw: "not json", event: { key } });
      });
    });

    describe("malformed input", () => {
      for (const { name, event } of adapter.malformed) {
        it(`rejects ${name} with an EventTranslationError naming the provider`, async () => {
          let calls = 0;
          const fn = defineFunction({
            name: "contract-malformed",
            trigger: triggers.objectCreated({ bucket: source }),
            async handler() {
              calls++;
            },
          });
          const result = await adapter.invoke(fn, event);
          expect(result.ok).toBe(false);
          expect(result.error).toBeInstanceOf(EventTranslationError);
          expect((result.error as EventTranslationError).provider).toBe(adapter.provider);
          expect(calls).toBe(0);
        });
      }
    });

    if (adapter.native.messages) {
      const build = adapter.native.messages.bind(adapter.native);
      const batchSize = Math.min(4, adapter.maxBatch ?? 10);
      const trigger = triggers.messages(adapter.messagesTrigger ?? { source: "queue", name: "contract" });
      describe("message batches", () => {
        it("delivers each message's body, attributes, id and time", async () => {
          const bodies = Array.from({ length: batchSize }, (_unused, index) => JSON.stringify({ n: index, text: "é" }));
          const { native, ids } = build(bodies);
          const seen: Array<{ id: string; json: unknown; time: string }> = [];
          const fn = defineFunction({
            name: "contract-messages",
            trigger,
            async handler(event) {
              for (const message of event.messages) seen.push({ id: message.id, json: message.json(), time: message.time });
            },
          });
          const result = await adapter.invoke(fn, native);
          expect(result.ok).toBe(true);
          expect(result.failedMessageIds ?? []).toEqual([]);
          expect(seen.map((message) => message.id)).toEqual(ids);
          expect(seen.map((message) => message.json)).toEqual(bodies.map((body) => JSON.parse(body)));
          for (const message of seen) expect(message.time).toMatch(ISO_UTC_MILLIS);
        });

        // Every subset of a small batch, not a sample: the partial-failure path is where libraries ship bugs.
        const subsets = Array.from({ length: 2 ** batchSize }, (_unused, mask) =>
          Array.from({ length: batchSize }, (_item, index) => index).filter((index) => mask & (1 << index)),
        );
        it(`reports exactly the failed messages for all ${subsets.length} subsets of a batch of ${batchSize}`, async () => {
          for (const failing of subsets) {
            const bodies = Array.from({ length: batchSize }, (_unused, index) => JSON.stringify({ n: index }));
            const { native, ids } = build(bodies);
            const fn = defineFunction({
              name: "contract-partial",
              trigger,
              async handler(event) {
                await event.each((message) => {
                  if (failing.includes(message.json<{ n: number }>().n)) throw new Error(`message ${message.id} fails`);
                });
              },
            });
            const result = await adapter.invoke(fn, native);
            const expected = failing.map((index) => ids[index]);
            if (batchSize === 1 || expected.length === ids.length) {
              // A batch in which every message failed is never a success.
              if (expected.length > 0) expect(result.ok && (result.failedMessageIds ?? []).length === 0).toBe(false);
              else expect(result.ok).toBe(true);
            }
            if (result.failedMessageIds !== undefined) expect(result.failedMessageIds).toEqual(expected);
          }
        });

        it("fails every message when the handler throws", async () => {
          const { native, ids } = build(Array.from({ length: batchSize }, (_unused, index) => `plain text ${index}`));
          const fn = defineFunction({
            name: "contract-throws",
            trigger,
            async handler() {
              throw new Error("whole batch fails");
            },
          });
          const result = await adapter.invoke(fn, native);
          expect(result.ok && (result.failedMessageIds ?? []).length === 0).toBe(false);
          if (result.failedMessageIds !== undefined) expect(result.failedMessageIds).toEqual(ids);
        });
      });
    }

    if (adapter.native.http) {
      const build = adapter.native.http.bind(adapter.native);
      describe("http", () => {
        it("delivers method, path, lower-case headers and repeated query parameters, and answers JSON", async () => {
          const seen: NeutralEvent[] = [];
          const fn = defineFunction({
            name: "contract-http",
            trigger: triggers.http(),
            async handler(event) {
              seen.push(event);
              return { ok: true, got: await event.json() };
            },
          });
          const result = await adapter.invoke(
            fn,
            build({
              method: "POST",
              path: "/contract/items/42",
              query: { tag: ["a", "b"], one: ["1"] },
              headers: { "X-Contract": "yes", "Content-Type": "application/json" },
              body: JSON.stringify({ value: 21.5 }),
            }),
          );
          expect(result.http?.status).toBe(200);
          expect(result.http?.headers["content-type"]).toMatch(/^application\/json/);
          expect(JSON.parse(result.http?.body ?? "null")).toEqual({ ok: true, got: { value: 21.5 } });
          const event = seen[0] as NeutralEvent & { kind: "http" };
          expect(event.method).toBe("POST");
          expect(event.path).toBe("/contract/items/42");
          expect(event.headers["x-contract"]).toBe("yes");
          expect(Object.keys(event.headers).every((name) => name === name.toLowerCase())).toBe(true);
          const tags = event.query.tag;
          expect(Array.isArray(tags) ? tags : tags?.split(",")).toEqual(["a", "b"]);
          expect(event.query.one).toBe("1");
          expect(event.time).toMatch(ISO_UTC_MILLIS);
        });

        it("answers an explicit status, headers and text body", async () => {
          const fn = defineFunction({
            name: "contract-http-created",
            trigger: triggers.http({ path: "/contract/items/{id}", methods: ["PUT"] }),
            async handler(event) {
              return { status: 201, headers: { "X-Item": event.params?.id ?? "?" }, body: "created" };
            },
          });
          const result = await adapter.invoke(fn, build({ method: "PUT", path: "/contract/items/7", query: {}, headers: {} }));
          expect(result.http?.status).toBe(201);
          expect(result.http?.headers["x-item"]).toBe("7");
          expect(result.http?.body).toBe("created");
        });

        it("answers a body that is not JSON with 400 and a message, never a stack trace", async () => {
          const fn = defineFunction({
            name: "contract-http-bad-json",
            trigger: triggers.http(),
            async handler(event) {
              return event.json();
            },
          });
          const result = await adapter.invoke(
            fn,
            build({ method: "POST", path: "/contract", query: {}, headers: { "content-type": "application/json" }, body: "{not json" }),
          );
          expect(result.http?.status).toBe(400);
          if (adapter.platformRejectsMalformedJson === undefined) expect(result.http?.body).toMatch(/not valid JSON/);
          expect(result.http?.body).not.toMatch(/at .*\.(ts|js):\d+/);
        });
      });
    }

    if (adapter.native.schedule) {
      const build = adapter.native.schedule.bind(adapter.native);
      it("delivers a schedule event with its time and name", async () => {
        const seen: NeutralEvent[] = [];
        const fn = defineFunction({
          name: "contract-schedule",
          trigger: triggers.schedule({ cron: "0 * * * *" }),
          async handler(event) {
            seen.push(event);
          },
        });
        const result = await adapter.invoke(fn, build());
        expect(result.ok).toBe(true);
        const event = seen[0] as NeutralEvent & { kind: "schedule" };
        expect(event.kind).toBe("schedule");
        expect(event.time).toMatch(ISO_UTC_MILLIS);
        expect(event.schedule.length).toBeGreaterThan(0);
      });
    }

    if (adapter.native.invoke) {
      const build = adapter.native.invoke.bind(adapter.native);
      it("delivers an invoke payload unchanged", async () => {
        const payload = { day: "2026-11-23", sensors: ["s-001", "s-002"], nested: { deep: [1, null, "x"] } };
        const seen: unknown[] = [];
        const fn = defineFunction({
          name: "contract-invoke",
          trigger: triggers.invoke<typeof payload>(),
          async handler(event) {
            seen.push(event.payload);
            return { received: true };
          },
        });
        const result = await adapter.invoke(fn, build(payload));
        expect(result.ok).toBe(true);
        expect(seen).toEqual([payload]);
      });
    }
  });
}
