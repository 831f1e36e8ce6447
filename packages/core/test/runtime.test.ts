import { describe, expect, it } from "vitest";
import {
  createRuntime,
  defineFunction,
  destinations,
  HttpError,
  isHttpResponseInit,
  silentLogger,
  TimeoutError,
  toHttpResult,
  triggers,
  type FailureReport,
  type HttpEventData,
  type MessagesEventData,
  type Outcome,
} from "../src/index.js";

const encoder = new TextEncoder();

function batch(bodies: string[], attempts: Array<number | undefined> = []): MessagesEventData {
  return {
    kind: "messages",
    source: "queue",
    name: "readings",
    provider: "local",
    messages: bodies.map((body, index) => {
      const attempt = attempts[index];
      return {
        id: `m${index}`,
        time: "2026-11-23T14:05:00.000Z",
        body: encoder.encode(body),
        attributes: {},
        ...(attempt === undefined ? {} : { attempt }),
      };
    }),
  };
}

function httpEvent(fields: Partial<HttpEventData> = {}): HttpEventData {
  return {
    kind: "http",
    id: "r1",
    time: "2026-11-23T14:05:00.000Z",
    method: "GET",
    path: "/",
    headers: {},
    query: {},
    provider: "local",
    ...fields,
  };
}

describe("deadlines", () => {
  it("aborts ctx.signal and fails with TimeoutError before the platform's deadline; the input goes to onFailure", async () => {
    const reports: FailureReport[] = [];
    let aborted: unknown;
    const fn = defineFunction({
      name: "slow",
      trigger: triggers.invoke(),
      timeoutMarginMs: 50,
      onFailure: destinations.custom((report: FailureReport) => {
        reports.push(report);
      }),
      handler: (_event, ctx) =>
        new Promise((resolve) => {
          ctx.signal.addEventListener("abort", () => {
            aborted = ctx.signal.reason;
            resolve("too late");
          });
        }),
    });
    const runtime = createRuntime(fn, { provider: "local", log: silentLogger });
    const outcome = await runtime.dispatch(
      { kind: "invoke", id: "1", time: "2026-11-23T14:05:00.000Z", payload: { n: 1 }, provider: "local" },
      { invocationId: "inv-1", deadline: Date.now() + 120 },
    );
    expect(outcome.status).toBe("routed");
    expect((outcome as { error: unknown }).error).toBeInstanceOf(TimeoutError);
    expect(aborted).toBeInstanceOf(TimeoutError);
    expect(reports).toHaveLength(1);
    expect(reports[0]?.event).toMatchObject({ kind: "invoke", payload: { n: 1 } });
    expect(reports[0]?.failures[0]?.error.name).toBe("TimeoutError");
  });
});

describe("the context a handler gets", () => {
  it("works destructured: quarantine, remainingMs, log and signal need no this", async () => {
    const reports: FailureReport[] = [];
    let remaining = -1;
    let aborted: boolean | undefined;
    const fn = defineFunction({
      name: "destructured",
      trigger: triggers.invoke(),
      onFailure: destinations.custom((report: FailureReport) => {
        reports.push(report);
      }),
      handler: (_event, { quarantine, remainingMs, log, signal }) => {
        remaining = remainingMs();
        aborted = signal.aborted;
        log.debug("destructured");
        quarantine({ error: new Error("bad record"), line: 3, raw: "x" });
        return "done";
      },
    });
    const outcome = await createRuntime(fn, { provider: "local", log: silentLogger }).dispatch(
      { kind: "invoke", id: "1", time: "2026-11-23T14:05:00.000Z", payload: null, provider: "local" },
      { invocationId: "inv-1", deadline: Date.now() + 60_000 },
    );
    expect(outcome).toEqual({ status: "ok", value: "done" });
    expect(remaining).toBeGreaterThan(50_000);
    expect(aborted).toBe(false);
    expect(reports[0]?.failures).toMatchObject([{ line: 3, raw: "x", error: { message: "bad record" } }]);
  });
});

describe("deadlines shared by events in flight", () => {
  const invoke = (n: number) => ({
    kind: "invoke" as const,
    id: String(n),
    time: "2026-11-23T14:05:00.000Z",
    payload: { n },
    provider: "local" as const,
  });

  it("fails a handler that ignores its signal on time, and each of several concurrent events by its own deadline", async () => {
    const finished: number[] = [];
    const fn = defineFunction({
      name: "overlapping",
      trigger: triggers.invoke(),
      timeoutMarginMs: 0,
      // Never settles for n = 1 and 2 (the signal is ignored); n = 3 settles after 30 ms.
      handler: (event) =>
        new Promise((resolve) => {
          if ((event.payload as { n: number }).n === 3) setTimeout(() => resolve(finished.push(3)), 30);
        }),
    });
    const runtime = createRuntime(fn, { provider: "local", log: silentLogger });
    const started = Date.now();
    const late = runtime.dispatch(invoke(1), { invocationId: "late", deadline: started + 250 });
    const early = runtime.dispatch(invoke(2), { invocationId: "early", deadline: started + 60 });
    const quick = runtime.dispatch(invoke(3), { invocationId: "quick", deadline: started + 1_000 });
    const earlyOutcome = await early;
    const earlyAt = Date.now() - started;
    expect(earlyOutcome.status).toBe("failed");
    expect((earlyOutcome as { error: unknown }).error).toBeInstanceOf(TimeoutError);
    expect(earlyAt).toBeLessThan(240);
    expect(await quick).toStrictEqual({ status: "ok", value: 1 });
    const lateOutcome = await late;
    expect((lateOutcome as { error: unknown }).error).toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    // The shared timer keeps working for events after those.
    const again = await runtime.dispatch(invoke(2), { invocationId: "again", deadline: Date.now() + 40 });
    expect((again as { error: unknown }).error).toBeInstanceOf(TimeoutError);
  });

  it("returns what a handler returns synchronously, and fails one that throws synchronously, with a deadline", async () => {
    const fn = defineFunction({
      name: "sync",
      trigger: triggers.invoke(),
      handler: ((event: { payload: { n: number } }) => {
        if (event.payload.n === 0) throw new Error("zero");
        return event.payload.n * 2;
      }) as never,
    });
    const runtime = createRuntime(fn, { provider: "local", log: silentLogger });
    expect(await runtime.dispatch(invoke(4), { invocationId: "a", deadline: Date.now() + 10_000 })).toStrictEqual({
      status: "ok",
      value: 8,
    });
    const failed = await runtime.dispatch(invoke(0), { invocationId: "b", deadline: Date.now() + 10_000 });
    expect(failed.status).toBe("failed");
    expect((failed as { error: Error }).error.message).toBe("zero");
  });
});

describe("message batches", () => {
  it("retries failed messages, and routes those past maxAttempts to onFailure with their bodies", async () => {
    const routed: FailureReport[] = [];
    const fn = defineFunction({
      name: "attempts",
      trigger: triggers.messages({ source: "queue", name: "readings" }),
      maxAttempts: 3,
      onFailure: destinations.custom((report: FailureReport) => {
        routed.push(report);
      }),
      async handler(event) {
        await event.each((message) => {
          if (message.text().startsWith("bad")) throw new Error(`cannot use ${message.id}`);
        });
      },
    });
    const runtime = createRuntime(fn, { provider: "local", log: silentLogger });
    const outcome = await runtime.dispatch(batch(["ok", "bad-early", "bad-late", "ok"], [1, 1, 3, 5]), { invocationId: "i" });
    expect(outcome).toStrictEqual({ status: "messages", failedMessageIds: ["m1"], routedMessageIds: ["m2"] });
    expect(routed).toHaveLength(1);
    expect(routed[0]?.failures).toStrictEqual([{ error: { name: "Error", message: "cannot use m2" }, messageId: "m2", raw: "bad-late" }]);
  });

  it("routes every failed message at once when the platform will not redeliver, keeping binary bodies exactly", async () => {
    const routed: FailureReport[] = [];
    const fn = defineFunction({
      name: "no-redelivery",
      trigger: triggers.messages({ source: "stream", name: "hub" }),
      onFailure: destinations.custom((report: FailureReport) => {
        routed.push(report);
      }),
      async handler(event) {
        event.messages[1]?.fail(new Error("no"));
      },
    });
    const runtime = createRuntime(fn, { provider: "local", log: silentLogger });
    const data = batch(["a", "b"]);
    (data.messages[1] as { body: Uint8Array }).body = new Uint8Array([0xff, 0xfe, 0x00]);
    const outcome = await runtime.dispatch(data, { invocationId: "i", redelivers: false });
    expect(outcome).toStrictEqual({ status: "messages", failedMessageIds: [], routedMessageIds: ["m1"] });
    expect(routed[0]?.failures[0]).toMatchObject({ messageId: "m1", data: { bodyBase64: "//4A" } });
  });

  it("routes the whole batch to onFailure when its output cannot be written and the platform will not redeliver", async () => {
    const routed: FailureReport[] = [];
    const fn = defineFunction({
      name: "output-down",
      trigger: triggers.messages({ source: "stream", name: "hub" }),
      destination: destinations.custom(() => {
        throw new Error("stream throttled");
      }),
      onFailure: destinations.custom((report: FailureReport) => {
        routed.push(report);
      }),
      handler: (event) => event.messages.length,
    });
    const runtime = createRuntime(fn, { provider: "local", log: silentLogger });
    const outcome = await runtime.dispatch(batch(["a", "b"]), { invocationId: "i", redelivers: false });
    expect(outcome).toStrictEqual({ status: "messages", failedMessageIds: [], routedMessageIds: ["m0", "m1"] });
    expect(routed[0]?.failures.map((failure) => [failure.messageId, failure.raw, failure.error.message])).toEqual([
      ["m0", "a", "stream throttled"],
      ["m1", "b", "stream throttled"],
    ]);
    // Where the platform redelivers, the batch is retried instead.
    expect((await runtime.dispatch(batch(["a"]), { invocationId: "j" })).status).toBe("failed");
  });

  it("fails the invocation when messages cannot be redelivered and onFailure cannot take them", async () => {
    const fn = defineFunction({
      name: "nowhere",
      trigger: triggers.messages({ source: "stream", name: "hub" }),
      async handler(event) {
        event.messages[0]?.fail();
      },
    });
    const outcome = await createRuntime(fn, { provider: "local", log: silentLogger }).dispatch(batch(["a"]), {
      invocationId: "i",
      redelivers: false,
    });
    expect(outcome.status).toBe("failed");
  });

  it("fails every message when the handler throws, including those it had not reached", async () => {
    const fn = defineFunction({
      name: "throws",
      trigger: triggers.messages({ source: "queue", name: "q" }),
      async handler() {
        throw new Error("down");
      },
    });
    const outcome = await createRuntime(fn, { provider: "local", log: silentLogger }).dispatch(batch(["a", "b", "c"]), {
      invocationId: "i",
    });
    expect(outcome).toStrictEqual({ status: "messages", failedMessageIds: ["m0", "m1", "m2"], routedMessageIds: [] });
  });

  it("runs `each` with bounded concurrency", async () => {
    let running = 0;
    let peak = 0;
    const fn = defineFunction({
      name: "concurrency",
      trigger: triggers.messages({ source: "queue", name: "q" }),
      async handler(event) {
        await event.each(
          async () => {
            running++;
            peak = Math.max(peak, running);
            await new Promise((resolve) => setTimeout(resolve, 5));
            running--;
          },
          { concurrency: 3 },
        );
      },
    });
    await createRuntime(fn, { provider: "local", log: silentLogger }).dispatch(batch(Array.from({ length: 10 }, () => "x")), {
      invocationId: "i",
    });
    expect(peak).toBe(3);
  });
});

describe("http", () => {
  const run = async (handler: (event: any) => unknown, data: HttpEventData, path?: string, methods?: string[]) => {
    const fn = defineFunction({ name: "web", trigger: triggers.http({ path, methods }), handler });
    const outcome: Outcome = await createRuntime(fn, { provider: "local", log: silentLogger }).dispatch(data, { invocationId: "i" });
    if (outcome.status !== "http") throw new Error(`expected an http outcome, got ${outcome.status}`);
    return outcome.response;
  };

  it("matches path templates, decodes parameters, answers 404 and 405", async () => {
    const echo = (event: any) => event.params;
    expect(JSON.parse((await run(echo, httpEvent({ path: "/items/a%20b" }), "/items/{id}")).body as string)).toEqual({ id: "a b" });
    expect((await run(echo, httpEvent({ path: "/items/a/b" }), "/items/{id}")).status).toBe(404);
    expect(JSON.parse((await run(echo, httpEvent({ path: "/files/a/b.txt" }), "/files/{path+}")).body as string)).toEqual({
      path: "a/b.txt",
    });
    expect((await run(echo, httpEvent({ method: "DELETE", path: "/items/1" }), "/items/{id}", ["GET"])).status).toBe(405);
  });

  it("answers 413 for a body over the limit, 400 for bad JSON, 500 without details for anything else", async () => {
    const big = httpEvent({ method: "POST", body: { data: "x".repeat(7 * 1024 * 1024), encoding: "utf8" } });
    expect((await run((event) => event.text(), big)).status).toBe(413);
    expect((await run((event) => event.json(), httpEvent({ method: "POST", body: { data: "{", encoding: "utf8" } }))).status).toBe(400);
    const crash = await run(() => {
      throw new Error("secret database password in message");
    }, httpEvent());
    expect(crash.status).toBe(500);
    expect(crash.body).not.toContain("secret");
    const explicit = await run(() => {
      throw new HttpError(422, "value must be a number");
    }, httpEvent());
    expect([explicit.status, JSON.parse(explicit.body as string)]).toEqual([422, { error: "value must be a number" }]);
  });

  it("decodes base64 bodies", async () => {
    const response = await run(
      async (event) => Array.from(await event.bytes()),
      httpEvent({ method: "POST", body: { data: "AP8=", encoding: "base64" } }),
    );
    expect(JSON.parse(response.body as string)).toEqual([0, 255]);
  });
});

describe("toHttpResult", () => {
  it("turns every kind of return into one response shape", async () => {
    expect(await toHttpResult({ a: 1 })).toStrictEqual({
      status: 200,
      headers: { "content-type": "application/json" },
      cookies: [],
      body: '{"a":1}',
    });
    expect(await toHttpResult(undefined)).toStrictEqual({ status: 204, headers: {}, cookies: [], body: "" });
    expect(await toHttpResult("hi")).toStrictEqual({
      status: 200,
      headers: { "content-type": "text/plain; charset=utf-8" },
      cookies: [],
      body: "hi",
    });
    expect(await toHttpResult({ status: 302, headers: { Location: "/x", "Set-Cookie": ["a=1", "b=2"] } })).toStrictEqual({
      status: 302,
      headers: { location: "/x" },
      cookies: ["a=1", "b=2"],
      body: "",
    });
    const web = new Response(new Uint8Array([1, 2]), { status: 201, headers: { "content-type": "image/png", "set-cookie": "s=1" } });
    expect(await toHttpResult(web)).toStrictEqual({
      status: 201,
      headers: { "content-type": "image/png" },
      cookies: ["s=1"],
      body: new Uint8Array([1, 2]),
    });
  });

  it("treats a value with other keys beside status as data, not a response", () => {
    expect(isHttpResponseInit({ status: 200, body: "x" })).toBe(true);
    expect(isHttpResponseInit({ status: 200, sensor: "s-001" })).toBe(false);
    expect(isHttpResponseInit({ status: "ok" })).toBe(false);
  });
});

describe("filters", () => {
  it("throws a typed error, not a TypeError, when an event of another kind reaches a function", async () => {
    const fn = defineFunction({ name: "web", trigger: triggers.http(), handler: () => "x" });
    await expect(
      createRuntime(fn, { provider: "aws", log: silentLogger }).dispatch(
        { kind: "schedule", id: "1", time: "2026-11-23T14:05:00.000Z", schedule: "s", provider: "aws" },
        { invocationId: "i" },
      ),
    ).rejects.toMatchObject({ name: "EventTranslationError", provider: "aws", field: "kind" });
  });
});
