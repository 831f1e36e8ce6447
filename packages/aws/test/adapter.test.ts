import { EventTranslationError, defineFunction, destinations, maybeGunzip, readAllBytes, triggers, type Context } from "@sluice/core";
import { describe, expect, inject, it } from "vitest";
import { S3ObjectStore, toLambda } from "../src/index.js";
import { fixture, json, lambdaContext } from "./helpers.js";
import { firehoseBatch, kinesisBatch, s3Created, sqsBatch } from "./native.js";
import { s3rverClient } from "../../../tools/emulators/src/index.js";

const client = s3rverClient(inject("s3rverPort"));
const store = new S3ObjectStore({ client });
const unique = (label: string) => `${label}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

function objectFunction(seen: string[], options: { failOn?: string } = {}) {
  return defineFunction({
    name: "adapter-objects",
    trigger: triggers.objectCreated({ bucket: "sensor-raw", prefix: "readings/" }),
    async handler(event) {
      if (options.failOn && event.key.includes(options.failOn)) throw new Error(`cannot handle ${event.key}`);
      seen.push(event.key);
      return undefined;
    },
  });
}

describe("object functions", () => {
  it("runs the same object whichever route delivered it: S3, EventBridge, SNS, SQS, SNS into SQS", async () => {
    const seen: string[] = [];
    const handler = toLambda(objectFunction(seen), { store, logLevel: "error" });
    const routes = [
      fixture("s3", "object-created-put"),
      fixture("s3-eventbridge", "object-created"),
      fixture("s3-sns", "object-created"),
      fixture("s3-sqs", "object-created"),
      fixture("s3-sns-sqs", "object-created"),
    ];
    const answers = [];
    for (const event of routes) answers.push(await handler(event, lambdaContext()));
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(1);
    expect(answers).toStrictEqual([undefined, undefined, undefined, { batchItemFailures: [] }, { batchItemFailures: [] }]);
  });

  it("acknowledges the s3:TestEvent directly, through SQS and through SNS, without running the handler", async () => {
    const seen: string[] = [];
    const handler = toLambda(objectFunction(seen), { store, logLevel: "error" });
    expect(await handler(fixture("s3", "test-event"), lambdaContext())).toBeUndefined();
    expect(await handler(fixture("s3-sqs", "test-event"), lambdaContext())).toStrictEqual({ batchItemFailures: [] });
    expect(await handler(fixture("s3-sns", "test-event"), lambdaContext())).toBeUndefined();
    expect(seen).toEqual([]);
  });

  it("acknowledges a bare s3:TestEvent whatever the function's trigger", async () => {
    let calls = 0;
    const count = async () => {
      calls++;
    };
    for (const fn of [
      defineFunction({ name: "t-messages", trigger: triggers.messages({ source: "queue", name: "q" }), handler: count }),
      defineFunction({ name: "t-schedule", trigger: triggers.schedule({ cron: "0 * * * *" }), handler: count }),
      defineFunction({ name: "t-http", trigger: triggers.http(), handler: count }),
    ]) {
      expect(await toLambda(fn, { store, logLevel: "error" })(fixture("s3", "test-event"), lambdaContext())).toBeUndefined();
    }
    expect(calls).toBe(0);
  });

  it("never delivers a restore as a creation, whichever the route", async () => {
    const seen: string[] = [];
    const handler = toLambda(objectFunction(seen), { store, logLevel: "error" });
    expect(await handler(fixture("s3", "restore-completed"), lambdaContext())).toBeUndefined();
    expect(await handler(fixture("s3-eventbridge", "object-restore-completed"), lambdaContext())).toBeUndefined();
    expect(seen).toEqual([]);
  });

  it("fails only the SQS message that is bad or whose object fails, and processes the rest", async () => {
    const seen: string[] = [];
    const handler = toLambda(objectFunction(seen, { failOn: "poison" }), { store, logLevel: "error" });
    const notification = (key: string) => json(s3Created({ bucket: "sensor-raw", key, size: 1 }));
    const { native, ids } = sqsBatch([
      notification("readings/good-1.ndjson"),
      "not json at all",
      notification("readings/poison.ndjson"),
      json(fixture("s3", "test-event")),
      notification("readings/good-2.ndjson"),
    ]);
    expect(await handler(native, lambdaContext())).toStrictEqual({
      batchItemFailures: [{ itemIdentifier: ids[1] }, { itemIdentifier: ids[2] }],
    });
    expect(seen).toEqual(["readings/good-1.ndjson", "readings/good-2.ndjson"]);
  });

  it("throws when every SQS message fails, so the batch is retried even without ReportBatchItemFailures", async () => {
    const handler = toLambda(objectFunction([], { failOn: "poison" }), { store, logLevel: "error" });
    const { native } = sqsBatch([json(s3Created({ bucket: "sensor-raw", key: "readings/poison-1", size: 1 }))]);
    expect(await failureOf(handler(native, lambdaContext()))).toMatchObject({ message: "cannot handle readings/poison-1" });
  });

  it("runs every record of a direct S3 event and then throws the first failure, so Lambda retries", async () => {
    const seen: string[] = [];
    const handler = toLambda(objectFunction(seen, { failOn: "poison" }), { store, logLevel: "error" });
    const event = s3Created({ bucket: "sensor-raw", key: "readings/poison.ndjson", size: 1 });
    event.Records.push(s3Created({ bucket: "sensor-raw", key: "readings/after.ndjson", size: 1 }).Records[0]);
    expect(await failureOf(handler(event, lambdaContext()))).toMatchObject({ message: "cannot handle readings/poison.ndjson" });
    expect(seen).toEqual(["readings/after.ndjson"]);
  });

  it("rejects a source the trigger cannot take, naming it", async () => {
    const handler = toLambda(objectFunction([]), { store, logLevel: "error" });
    const http = await failureOf(handler(fixture("apigw-v2", "get-no-body"), lambdaContext()));
    expect(http).toBeInstanceOf(EventTranslationError);
    expect(http).toMatchObject({ provider: "aws", source: "apigw-v2", field: "" });
    expect(await failureOf(handler(fixture("invoke", "arbitrary-payload"), lambdaContext()))).toMatchObject({ source: "unknown" });
  });

  it("gives the handler Lambda's request id and a deadline from getRemainingTimeInMillis", async () => {
    const contexts: Context[] = [];
    const fn = defineFunction({
      name: "adapter-context",
      trigger: triggers.objectCreated({ bucket: "sensor-raw" }),
      async handler(_event, ctx) {
        contexts.push(ctx);
      },
    });
    const before = Date.now();
    await toLambda(fn, { store, logLevel: "error" })(fixture("s3", "object-created-put"), {
      awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e812345678",
      getRemainingTimeInMillis: () => 12_000,
    });
    expect(contexts[0]?.invocationId).toBe("c6af9ac6-7b61-11e6-9a41-93e812345678");
    expect(contexts[0]?.deadline).toBeGreaterThanOrEqual(before + 12_000);
    expect(contexts[0]?.deadline).toBeLessThanOrEqual(Date.now() + 12_000);
    expect(contexts[0]?.provider).toBe("aws");
  });
});

describe("HTTP answers", () => {
  const echo = defineFunction({
    name: "adapter-http",
    trigger: triggers.http(),
    async handler(event) {
      if (event.path === "/binary")
        return new Response(new Uint8Array([0, 1, 2, 255]), { headers: { "content-type": "application/octet-stream" } });
      return {
        status: 201,
        headers: { "X-Path": event.path, "Set-Cookie": ["a=1; Path=/", "b=2; Path=/"] },
        body: { method: event.method, query: event.query, text: await event.text() },
      };
    },
  });
  const handler = toLambda(echo, { store, logLevel: "error" });

  it("answers REST (v1) with multiValueHeaders for cookies and the body decoded from the request", async () => {
    const answer = (await handler(fixture("apigw-v1", "rest-proxy-post"), lambdaContext())) as Record<string, any>;
    expect(answer).toMatchObject({
      statusCode: 201,
      headers: { "x-path": "/items/s-001", "content-type": "application/json" },
      multiValueHeaders: { "set-cookie": ["a=1; Path=/", "b=2; Path=/"] },
      isBase64Encoded: false,
    });
    expect(JSON.parse(answer.body)).toEqual({
      method: "POST",
      query: { tag: ["a", "b"], format: "json" },
      text: fixture("apigw-v1", "rest-proxy-post").body,
    });
  });

  it("answers HTTP API 2.0 and function URLs with a cookies array, and bytes as base64", async () => {
    const answer = (await handler(fixture("apigw-v2", "form-urlencoded-base64"), lambdaContext())) as Record<string, any>;
    expect(answer.cookies).toEqual(["a=1; Path=/", "b=2; Path=/"]);
    expect(JSON.parse(answer.body).text).toBe("sensorId=s-001&temperatureC=21.5&note=north+wing");
    const url = fixture("function-url", "get-no-body");
    url.rawPath = "/binary";
    const binary = (await handler(url, lambdaContext())) as Record<string, any>;
    expect(binary).toMatchObject({ statusCode: 200, isBase64Encoded: true, body: Buffer.from([0, 1, 2, 255]).toString("base64") });
  });

  it("answers an ALB in the request's header mode, with a status description", async () => {
    const single = (await handler(fixture("alb", "single-value-headers"), lambdaContext())) as Record<string, any>;
    expect(single).toMatchObject({ statusCode: 201, statusDescription: "201 Created", headers: { "set-cookie": "b=2; Path=/" } });
    expect(single.multiValueHeaders).toBeUndefined();
    const multi = (await handler(fixture("alb", "multi-value-headers"), lambdaContext())) as Record<string, any>;
    expect(multi).toMatchObject({
      statusCode: 201,
      multiValueHeaders: { "set-cookie": ["a=1; Path=/", "b=2; Path=/"], "x-path": ["/readings/s-001"] },
    });
    expect(multi.headers).toBeUndefined();
    expect(JSON.parse(multi.body).query).toEqual({ since: "2026-11-23T13:00:00Z", tag: ["a", "b"] });
  });

  it("answers an ALB health check 200 without running the handler", async () => {
    let calls = 0;
    const fn = defineFunction({
      name: "adapter-health",
      trigger: triggers.http(),
      async handler() {
        calls++;
        return "ran";
      },
    });
    const answer = await toLambda(fn, { store, logLevel: "error" })(fixture("alb", "health-check"), lambdaContext());
    expect(answer).toMatchObject({ statusCode: 200, statusDescription: "200 OK" });
    expect(calls).toBe(0);
  });

  it("answers 500 without a stack trace when the handler throws", async () => {
    const fn = defineFunction({
      name: "adapter-http-throws",
      trigger: triggers.http(),
      async handler(): Promise<string> {
        throw new Error("secret detail");
      },
    });
    const answer = (await toLambda(fn, { store, logLevel: "error" })(fixture("apigw-v2", "get-no-body"), lambdaContext())) as Record<
      string,
      any
    >;
    expect(answer.statusCode).toBe(500);
    expect(answer.body).not.toMatch(/secret detail|\.ts:\d+/);
  });
});

describe("message functions", () => {
  const failing = (name: string, source: "queue" | "topic" | "stream", failWhen: (text: string) => boolean) =>
    defineFunction({
      name,
      trigger: triggers.messages({ source, name: "sensor-readings" }),
      async handler(event) {
        await event.each((message) => {
          if (failWhen(message.text())) throw new Error(`bad ${message.id}`);
        });
      },
    });

  it("reports failed Kinesis records by sequence number, and throws when all fail", async () => {
    const handler = toLambda(
      failing("adapter-kinesis", "stream", (text) => text.includes("bad")),
      { store, logLevel: "error" },
    );
    const { native, ids } = kinesisBatch(["ok-0", "bad-1", "ok-2", "bad-3"]);
    expect(await handler(native, lambdaContext())).toStrictEqual({
      batchItemFailures: [{ itemIdentifier: ids[1] }, { itemIdentifier: ids[3] }],
    });
    expect(ids.every((id) => /^\d{56}$/.test(id))).toBe(true);
    expect(await failureOf(handler(kinesisBatch(["bad-0", "bad-1"]).native, lambdaContext()))).toMatchObject({ code: "BATCH_FAILED" });
  });

  it("fails only the SQS record that cannot be translated", async () => {
    const seen: string[] = [];
    const fn = defineFunction({
      name: "adapter-sqs",
      trigger: triggers.messages({ source: "queue", name: "sluice-ingest" }),
      async handler(event) {
        for (const message of event.messages) seen.push(message.text());
      },
    });
    const { native, ids } = sqsBatch(["one", "two", "three"]);
    (native.Records[1] as Record<string, unknown>).attributes = { SentTimestamp: "yesterday" };
    expect(await toLambda(fn, { store, logLevel: "error" })(native, lambdaContext())).toStrictEqual({
      batchItemFailures: [{ itemIdentifier: ids[1] }],
    });
    expect(seen).toEqual(["one", "three"]);
  });

  it("answers Firehose with Ok, Dropped and ProcessingFailed and the transformed data", async () => {
    const fn = defineFunction({
      name: "adapter-firehose",
      trigger: triggers.messages({ source: "stream", name: "sensor-stream-1" }),
      async handler(event) {
        const transformed: Record<string, string | object | null> = {};
        for (const message of event.messages) {
          const text = message.text();
          if (text === "fail") message.fail(new Error("cannot transform"));
          else if (text === "drop") transformed[message.id] = null;
          else if (text === "json") transformed[message.id] = { upper: "JSON" };
          else if (text !== "keep") transformed[message.id] = text.toUpperCase();
        }
        return { transformed };
      },
    });
    const control = fixture("kinesis", "cloudwatch-logs-control-message").Records[0].kinesis.data;
    const { native, ids } = firehoseBatch(["hello", "drop", "fail", "keep", "json", "control"]);
    native.records[5].data = control;
    const answer = await toLambda(fn, { store, logLevel: "error" })(native, lambdaContext());
    const base64 = (text: string) => Buffer.from(text).toString("base64");
    expect(answer).toStrictEqual({
      records: [
        { recordId: ids[0], result: "Ok", data: base64("HELLO") },
        { recordId: ids[1], result: "Dropped", data: base64("drop") },
        { recordId: ids[2], result: "ProcessingFailed", data: base64("fail") },
        { recordId: ids[3], result: "Ok", data: base64("keep") },
        { recordId: ids[4], result: "Ok", data: base64('{"upper":"JSON"}\n') },
        { recordId: ids[5], result: "Dropped", data: control },
      ],
    });
  });

  it("throws when every Firehose record fails, so Firehose retries the invocation", async () => {
    const handler = toLambda(
      failing("adapter-firehose-all", "stream", () => true),
      { store, logLevel: "error" },
    );
    expect(await failureOf(handler(firehoseBatch(["a", "b"]).native, lambdaContext()))).toMatchObject({ code: "BATCH_FAILED" });
  });

  it("throws for a failed SNS message, since SNS invokes asynchronously and has no partial answer", async () => {
    const handler = toLambda(
      failing("adapter-sns", "topic", () => true),
      { store, logLevel: "error" },
    );
    expect(await failureOf(handler(fixture("sns", "notification"), lambdaContext()))).toBeInstanceOf(Error);
    const ok = toLambda(
      failing("adapter-sns-ok", "topic", () => false),
      { store, logLevel: "error" },
    );
    expect(await ok(fixture("sns", "notification"), lambdaContext())).toStrictEqual({ batchItemFailures: [] });
  });

  it("delivers CloudWatch Logs data gzip, for the handler to decode on request", async () => {
    const events: string[] = [];
    const fn = defineFunction({
      name: "adapter-logs",
      trigger: triggers.messages({ source: "stream", name: "sensor-readings" }),
      async handler(event) {
        for (const message of event.messages) {
          const stream = new Blob([message.bytes()]).stream() as ReadableStream<Uint8Array>;
          const logs = JSON.parse(new TextDecoder().decode(await readAllBytes(maybeGunzip(stream))));
          events.push(...logs.logEvents.map((item: { message: string }) => item.message));
        }
      },
    });
    await toLambda(fn, { store, logLevel: "error" })(fixture("kinesis", "cloudwatch-logs-gzip"), lambdaContext());
    expect(events).toHaveLength(3);
    expect(events.every((message) => message.endsWith("\n"))).toBe(true);
  });
});

describe("schedules and direct invocations", () => {
  it("runs a schedule from an EventBridge rule and from the Scheduler input, and rejects the raw template", async () => {
    const seen: string[] = [];
    const fn = defineFunction({
      name: "adapter-schedule",
      trigger: triggers.schedule({ cron: "0 * * * *" }),
      async handler(event) {
        seen.push(`${event.schedule} ${event.time}`);
      },
    });
    const handler = toLambda(fn, { store, logLevel: "error" });
    await handler(fixture("schedule", "scheduled-event"), lambdaContext());
    await handler(fixture("scheduler", "sluice-input"), lambdaContext());
    expect(seen).toEqual(["sluice-hourly-rollup 2026-11-23T14:00:00.000Z", "sluice-hourly-rollup 2026-11-23T14:00:00.000Z"]);
    expect(await failureOf(handler(fixture("scheduler", "sluice-input-template"), lambdaContext()))).toMatchObject({
      source: "scheduler",
      field: "scheduledTime",
    });
    expect(await failureOf(handler(fixture("sqs", "single"), lambdaContext()))).toMatchObject({ source: "sqs" });
  });

  it("passes any payload to an invoke function, even one shaped like an S3 event, and returns its result", async () => {
    const fn = defineFunction({
      name: "adapter-invoke",
      trigger: triggers.invoke<unknown>(),
      async handler(event) {
        return { got: event.payload, id: event.id };
      },
    });
    const handler = toLambda(fn, { store, logLevel: "error" });
    const s3 = fixture("s3", "object-created-put");
    expect(await handler(s3, { awsRequestId: "r-1" })).toStrictEqual({ got: s3, id: "r-1" });
    expect(await handler("plain", { awsRequestId: "r-2" })).toStrictEqual({ got: "plain", id: "r-2" });
  });

  it("writes an invoke function's result to its destination in S3", async () => {
    const key = unique("invoke");
    const fn = defineFunction({
      name: "adapter-invoke-destination",
      trigger: triggers.invoke<{ n: number }>(),
      destination: destinations.objectStore({ bucket: "contract-out", key: () => `invoke/${key}.json` }),
      async handler(event) {
        return { doubled: event.payload.n * 2 };
      },
    });
    await toLambda(fn, { s3: client, logLevel: "error" })({ n: 21 }, lambdaContext());
    const written = new TextDecoder().decode(await readAllBytes(await store.get("contract-out", `invoke/${key}.json`)));
    expect(JSON.parse(written)).toEqual({ doubled: 42 });
  });
});
