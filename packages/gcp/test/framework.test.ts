import { type NeutralEvent, type SluiceFunction, defineFunction, destinations, triggers } from "@sluice/core";
import { readAllBytes } from "@sluice/core";
import { describe, expect, it } from "vitest";
import { type CloudFunctionOptions, GcsObjectStore, toCloudFunction } from "../src/index.js";
import { type Delivery, capturingLogger, deliver, postJson } from "./framework.js";
import { emulatorStorage, fixture } from "./helpers.js";

const K = "readings/2026/11/23/14/sensor-stream-1-2026-11-23-14-05-00-3f1c9a2e-7b1d-4c55-9a0e-2b8f6d1e4a10";
const store = new GcsObjectStore({ storage: emulatorStorage() });

/** The plain-data part of a neutral event, as a handler received it (readers dropped). */
function plain(event: NeutralEvent): Record<string, unknown> {
  return Object.fromEntries(Object.entries(event).filter(([, value]) => typeof value !== "function"));
}

async function run(fn: SluiceFunction, delivery: Delivery, options: CloudFunctionOptions = {}) {
  const { log, lines } = capturingLogger();
  toCloudFunction(fn, { store, log, ...options });
  const response = await deliver(fn.name, delivery);
  return { response, lines };
}

function recorder(trigger: SluiceFunction["trigger"], extra: Partial<Parameters<typeof defineFunction>[0]> = {}) {
  const seen: NeutralEvent[] = [];
  const fn = defineFunction({
    name: `framework-${trigger.kind.replace(".", "-")}`,
    trigger,
    async handler(event: NeutralEvent) {
      seen.push(event);
    },
    ...extra,
  } as Parameters<typeof defineFunction>[0]);
  return { fn, seen };
}

const ce = (source: string, variant: string, mode: "binary" | "structured"): Delivery => ({
  kind: "cloudevent",
  mode,
  event: fixture(source, variant),
});

describe("Cloud Storage events through the Functions Framework", () => {
  const expected = {
    kind: "object.created",
    id: "16470133924312187",
    time: "2026-11-23T14:05:00.147Z",
    bucket: "sensor-raw",
    key: K,
    size: 234,
    etag: "CMD666KhnpgDEAE=",
    contentType: "application/x-ndjson",
    version: "1795442700123456",
    provider: "gcp",
  };

  for (const mode of ["binary", "structured"] as const) {
    it(`a finalized CloudEvent in ${mode} mode reaches the handler as object.created and is answered 204`, async () => {
      const { fn, seen } = recorder(triggers.objectCreated({ bucket: "sensor-raw", prefix: "readings/" }));
      const { response } = await run(fn, ce("storage-cloudevent", "finalized", mode));
      expect(response.status).toBe(204);
      expect(seen.map(plain)).toStrictEqual([expected]);
    });
  }

  for (const mode of ["binary", "structured"] as const) {
    it(`an Eventarc CloudEvent in ${mode} mode also reaches a function registered as http`, async () => {
      const { fn, seen } = recorder(triggers.objectCreated({ bucket: "sensor-raw", prefix: "readings/" }));
      const { response } = await run(fn, ce("storage-cloudevent", "finalized", mode), { signature: "http" });
      expect(response.status).toBe(204);
      expect(seen.map(plain)).toStrictEqual([expected]);
    });
  }

  it("a legacy object.change for a deleted object, POSTed as 1st gen does, never reaches an objectCreated handler", async () => {
    const legacy = postJson(fixture("storage-legacy", "object-change-not-exists"));
    const created = recorder(triggers.objectCreated({ bucket: "sensor-raw" }));
    expect((await run(created.fn, legacy)).response.status).toBe(204);
    expect(created.seen).toEqual([]);
    const deletedFn = recorder(triggers.objectDeleted({ bucket: "sensor-raw" }));
    expect((await run(deletedFn.fn, legacy)).response.status).toBe(204);
    expect(deletedFn.seen.map(plain)).toStrictEqual([
      { ...expected, kind: "object.deleted", id: "7351120948805512", time: "2026-11-30T02:00:11.406Z" },
    ]);
  });

  it("a legacy finalize in the context and the flat shape is a creation", async () => {
    for (const variant of ["finalize-context", "finalize-flat"]) {
      const { fn, seen } = recorder(triggers.objectCreated({ bucket: "sensor-raw" }));
      expect((await run(fn, postJson(fixture("storage-legacy", variant)))).response.status).toBe(204);
      expect(seen.map(plain)).toStrictEqual([{ ...expected, id: "7283659147201853" }]);
    }
  });

  it("metadataUpdated and an object outside the prefix are acknowledged without running the handler", async () => {
    const { fn, seen } = recorder(triggers.objectCreated({ bucket: "sensor-raw", prefix: "elsewhere/" }));
    expect((await run(fn, ce("storage-cloudevent", "metadata-updated", "binary"))).response.status).toBe(204);
    expect((await run(fn, ce("storage-cloudevent", "finalized", "binary"))).response.status).toBe(204);
    expect(seen).toEqual([]);
  });

  it("a plain JSON POST is no event: 500 with x-google-status error and the translation error's message", async () => {
    const { fn, seen } = recorder(triggers.objectCreated({ bucket: "sensor-raw" }));
    const { response, lines } = await run(fn, postJson({ bucket: "sensor-raw", name: K }));
    expect(response.status).toBe(500);
    expect(response.headers["x-google-status"]).toBe("error");
    expect(response.body).toMatch(/^\[gcp\/unknown\] cannot translate event/);
    expect(lines.some((line) => line.level === "error" && line.message === "event could not be translated")).toBe(true);
    expect(seen).toEqual([]);
  });

  it("a GET to a cloudEvent function is refused by the framework before the adapter", async () => {
    const { fn, seen } = recorder(triggers.objectCreated({ bucket: "sensor-raw" }));
    const { response } = await run(fn, { kind: "request", method: "GET", path: "/" });
    expect(response.status).toBe(500);
    expect(seen).toEqual([]);
  });
});

describe("Pub/Sub through the Functions Framework", () => {
  const topic = triggers.messages({ source: "topic", name: "sensor-batches" });

  it("a 17-digit message id stays exact through structured mode", async () => {
    const { fn, seen } = recorder(topic);
    expect((await run(fn, ce("pubsub-cloudevent", "big-message-id", "structured"))).response.status).toBe(204);
    const [event] = seen as Array<NeutralEvent & { kind: "messages" }>;
    expect(event?.messages.map((message) => message.id)).toEqual(["17194425001187651"]);
  });

  it("a 1st gen topic.publish POSTed raw is one message with the event's id and time", async () => {
    const { fn, seen } = recorder(topic);
    expect((await run(fn, postJson(fixture("pubsub-legacy", "topic-publish")))).response.status).toBe(204);
    const [event] = seen as Array<NeutralEvent & { kind: "messages" }>;
    expect(event?.messages.map(({ id, time, attributes }) => ({ id, time, attributes }))).toEqual([
      { id: "13500356927496705", time: "2026-11-23T14:06:14.220Z", attributes: { origin: "sensor-gateway-7" } },
    ]);
  });

  it("a push body to a cloudEvent function loses deliveryAttempt and orderingKey; to an http one it keeps them", async () => {
    const push = postJson(fixture("pubsub-push", "push-with-delivery-attempt"));
    const converted = recorder(topic);
    await run(converted.fn, push);
    const viaCloudEvent = (converted.seen[0] as NeutralEvent & { kind: "messages" }).messages[0];
    expect([viaCloudEvent?.attempt, viaCloudEvent?.group]).toEqual([undefined, undefined]);

    const direct = recorder(topic);
    expect((await run(direct.fn, push, { signature: "http" })).response.status).toBe(204);
    const viaHttp = (direct.seen[0] as NeutralEvent & { kind: "messages" }).messages[0];
    expect([viaHttp?.id, viaHttp?.attempt, viaHttp?.group, viaHttp?.text()]).toEqual([
      "13500356927496704",
      3,
      "stream-1",
      `{"bucket":"sensor-raw","key":"${K}","rows":3}`,
    ]);
  });

  it("a failing message is retried below maxAttempts and goes to onFailure, acknowledged, once it reaches it", async () => {
    const failuresBucket = "framework-failures";
    const key = `dead-letters/${Date.now()}.ndjson`;
    const fn = defineFunction({
      name: "framework-max-attempts",
      trigger: topic,
      maxAttempts: 3,
      onFailure: destinations.objectStore({ bucket: failuresBucket, key: () => key }),
      async handler(event) {
        await event.each(() => {
          throw new Error("reading batch is corrupt");
        });
      },
    });
    const push = (attempt: number) => {
      const body = fixture<Record<string, unknown>>("pubsub-push", "push-with-delivery-attempt");
      return postJson({ ...body, deliveryAttempt: attempt });
    };
    const second = await run(fn, push(2), { signature: "http" });
    expect(second.response.status).toBe(500);
    expect(JSON.parse(second.response.body)).toEqual({ error: "message failed", failedMessageIds: ["13500356927496704"] });
    expect(await store.head(failuresBucket, key)).toBeUndefined();

    const third = await run(fn, push(3), { signature: "http" });
    expect(third.response.status).toBe(204);
    const written = new TextDecoder().decode(await readAllBytes(await store.get(failuresBucket, key)));
    expect(JSON.parse(written.trim())).toMatchObject({
      function: "framework-max-attempts",
      provider: "gcp",
      messageId: "13500356927496704",
      error: { message: "reading batch is corrupt" },
      raw: `{"bucket":"sensor-raw","key":"${K}","rows":3}`,
    });
  });

  it("through Eventarc (no delivery attempt) a failing message is always answered 500, so Pub/Sub retries it", async () => {
    const fn = defineFunction({
      name: "framework-eventarc-failure",
      trigger: topic,
      maxAttempts: 1,
      async handler(event) {
        for (const message of event.messages) message.fail(new Error("nope"));
      },
    });
    const { response } = await run(fn, ce("pubsub-cloudevent", "message-published", "binary"));
    expect(response.status).toBe(500);
    expect(response.headers["x-google-status"]).toBe("error");
    expect(response.body).toMatch(/2070443601311540/);
  });
});

describe("Cloud Scheduler through the Functions Framework", () => {
  it("an HTTP target reaches a schedule function registered as http", async () => {
    const { fn, seen } = recorder(triggers.schedule({ cron: "0 * * * *" }));
    const raw = fixture<{ headers: Record<string, string>; body: string }>("scheduler", "http-target");
    const { response } = await run(
      fn,
      { kind: "request", method: "POST", path: "/", headers: raw.headers, body: raw.body },
      { signature: "http" },
    );
    expect(response.status).toBe(204);
    expect(seen.map(plain)).toStrictEqual([
      {
        kind: "schedule",
        id: "compact-readings-hourly@2026-11-23T14:00:00.000Z",
        time: "2026-11-23T14:00:00.000Z",
        schedule: "compact-readings-hourly",
        provider: "gcp",
      },
    ]);
  });

  it("a request without Cloud Scheduler's header is refused with 400", async () => {
    const { fn, seen } = recorder(triggers.schedule({ cron: "0 * * * *" }));
    const { response } = await run(fn, postJson({ pipeline: "compact-readings" }), { signature: "http" });
    expect(response.status).toBe(400);
    expect(seen).toEqual([]);
  });
});

describe("HTTP functions through the Functions Framework", () => {
  it("sends binary bodies byte for byte and every Set-Cookie", async () => {
    const fn = defineFunction({
      name: "framework-http-binary",
      trigger: triggers.http(),
      async handler(event) {
        const received = await event.bytes();
        return new Response(new Uint8Array([...received].reverse()), {
          status: 201,
          headers: [
            ["content-type", "application/octet-stream"],
            ["set-cookie", "a=1"],
            ["set-cookie", "b=2"],
          ],
        });
      },
    });
    toCloudFunction(fn, { store });
    const response = await deliver(fn.name, {
      kind: "request",
      method: "POST",
      path: "/bytes",
      headers: { "content-type": "application/octet-stream" },
      body: new Uint8Array([0, 255, 128, 10]),
    });
    expect(response.status).toBe(201);
    expect([...response.bytes]).toEqual([10, 128, 255, 0]);
    expect(response.headers["content-type"]).toBe("application/octet-stream");
    expect(response.cookies).toEqual(["a=1", "b=2"]);
  });

  it("the framework itself answers an unparsable JSON body with 400, with a stack trace unless NODE_ENV=production", async () => {
    let calls = 0;
    const fn = defineFunction({
      name: "framework-http-bad-json",
      trigger: triggers.http(),
      async handler() {
        calls++;
      },
    });
    toCloudFunction(fn, { store });
    const request: Delivery = {
      kind: "request",
      method: "POST",
      path: "/",
      headers: { "content-type": "application/json" },
      body: "{not json",
    };
    const development = await deliver(fn.name, request);
    expect(development.status).toBe(400);
    expect(development.body).toMatch(/body-parser/);
    const production = await deliver(fn.name, request, { production: true });
    expect(production.status).toBe(400);
    expect(production.body).not.toMatch(/body-parser|at .*\.js:\d+/);
    expect(calls).toBe(0);
  });
});

describe("deadlines", () => {
  it("aborts ctx.signal before the deployed timeout and fails the invocation so it is retried", async () => {
    let remainingAtStart = Number.NaN;
    let aborted = false;
    const fn = defineFunction({
      name: "framework-deadline",
      trigger: triggers.objectCreated({ bucket: "sensor-raw" }),
      // 1 s timeout less a 900 ms margin: the handler has about 100 ms.
      timeoutMarginMs: 900,
      async handler(_event, ctx) {
        remainingAtStart = ctx.remainingMs();
        await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
        aborted = ctx.signal.aborted;
      },
    });
    const { response } = await run(fn, ce("storage-cloudevent", "finalized", "binary"), { timeoutSeconds: 1 });
    expect(remainingAtStart).toBeGreaterThan(0);
    expect(remainingAtStart).toBeLessThanOrEqual(1000);
    expect(aborted).toBe(true);
    expect(response.status).toBe(500);
    expect(response.body).toMatch(/budget/);
  });
});
