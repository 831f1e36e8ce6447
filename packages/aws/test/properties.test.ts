import { defineFunction, triggers } from "@sluice/core";
import fc from "fast-check";
import { describe, expect, inject, it } from "vitest";
import { S3ObjectStore, decodeS3Key, fromS3Notification, toLambda } from "../src/index.js";
import { json, lambdaContext } from "./helpers.js";
import { encodeS3Key, firehoseBatch, kinesisBatch, s3Created, sqsBatch } from "./native.js";
import { s3rverClient } from "../../../tools/emulators/src/index.js";

const store = new S3ObjectStore({ client: s3rverClient(inject("s3rverPort")) });

/** Keys as S3 stores them: any Unicode (no lone surrogates: keys are UTF-8), with `/`, `+`, `%` and spaces likely. */
const keys = fc
  .array(
    fc.oneof(
      fc.string({ unit: "binary", minLength: 1, maxLength: 6 }),
      fc.constantFrom("/", "+", "%", " ", "%20", "%2B", "é", "🚀", "=", ":"),
    ),
    {
      minLength: 1,
      maxLength: 12,
    },
  )
  .map((parts) => parts.join(""));

/** Percent-encodes every UTF-8 byte, `/` and `-` included, as a 2015 report showed S3 doing for `/`. */
function encodeEveryByte(key: string): string {
  return Array.from(new TextEncoder().encode(key), (byte) => `%${byte.toString(16).toUpperCase().padStart(2, "0")}`).join("");
}

describe("S3 key decoding (property-based)", () => {
  it("decodes S3's form encoding, with '+' or '%20' for a space, and full percent-encoding, back to the key", () => {
    fc.assert(
      fc.property(keys, (key) => {
        expect(decodeS3Key(encodeS3Key(key))).toBe(key);
        expect(decodeS3Key(encodeS3Key(key).replace(/\+/g, "%20"))).toBe(key);
        expect(decodeS3Key(encodeEveryByte(key))).toBe(key);
      }),
      { numRuns: 500 },
    );
  });

  it("delivers the stored key in the neutral event whatever characters it holds", () => {
    fc.assert(
      fc.property(keys, (key) => {
        const [item] = fromS3Notification(s3Created({ bucket: "sensor-raw", key, size: 1 }));
        expect(item && "event" in item ? item.event.key : undefined).toBe(key);
      }),
      { numRuns: 300 },
    );
  });
});

/** A batch of 1..10 messages, each ok, failing in the handler, or malformed on the wire. */
const plans = fc.array(fc.constantFrom("ok", "fail", "malformed"), { minLength: 1, maxLength: 10 });

function messagesFunction(source: "queue" | "stream") {
  return defineFunction({
    name: "property-batch",
    trigger: triggers.messages({ source, name: "sensor-readings" }),
    async handler(event) {
      await event.each((message) => {
        if (message.text().startsWith("fail")) throw new Error(`failing ${message.id}`);
      });
    },
  });
}

/** Runs the handler and returns the ids Lambda is told to retry, or "all" when the invocation threw. */
async function retried(handler: ReturnType<typeof toLambda>, native: unknown): Promise<string[] | "all"> {
  try {
    const answer = (await handler(native, lambdaContext())) as { batchItemFailures: Array<{ itemIdentifier: string }> };
    return answer.batchItemFailures.map((item) => item.itemIdentifier);
  } catch {
    return "all";
  }
}

function expectedRetries(plan: string[], ids: string[]): string[] | "all" {
  const failing = ids.filter((_id, index) => plan[index] !== "ok");
  return failing.length === ids.length ? "all" : failing;
}

describe("partial batch failures (property-based)", () => {
  it("SQS: reports exactly the failed and malformed messages; a batch that failed whole is thrown", async () => {
    const handler = toLambda(messagesFunction("queue"), { store, logLevel: "error" });
    await fc.assert(
      fc.asyncProperty(plans, async (plan) => {
        const { native, ids } = sqsBatch(plan.map((step, index) => `${step}-${index}`));
        plan.forEach((step, index) => {
          if (step === "malformed") delete (native.Records[index] as Record<string, unknown>).body;
        });
        expect(await retried(handler, native)).toEqual(expectedRetries(plan, ids));
      }),
      { numRuns: 150 },
    );
  });

  it("Kinesis: reports exactly the failed and malformed records by sequence number", async () => {
    const handler = toLambda(messagesFunction("stream"), { store, logLevel: "error" });
    await fc.assert(
      fc.asyncProperty(plans, async (plan) => {
        const { native, ids } = kinesisBatch(plan.map((step, index) => `${step}-${index}`));
        plan.forEach((step, index) => {
          if (step === "malformed") (native.Records[index] as { kinesis: { data: string } }).kinesis.data = "not base64!";
        });
        expect(await retried(handler, native)).toEqual(expectedRetries(plan, ids));
      }),
      { numRuns: 150 },
    );
  });

  it("Firehose: marks exactly the failed and malformed records ProcessingFailed, the rest Ok, in order", async () => {
    const handler = toLambda(messagesFunction("stream"), { store, logLevel: "error" });
    await fc.assert(
      fc.asyncProperty(plans, async (plan) => {
        const { native, ids } = firehoseBatch(plan.map((step, index) => `${step}-${index}`));
        plan.forEach((step, index) => {
          if (step === "malformed") native.records[index].data = "%%%";
        });
        let answer: { records: Array<{ recordId: string; result: string }> } | "all";
        try {
          answer = (await handler(native, lambdaContext())) as typeof answer;
        } catch {
          answer = "all";
        }
        const expected = expectedRetries(plan, ids);
        if (expected === "all") expect(answer).toBe("all");
        else
          expect(answer).toEqual({
            records: ids.map((recordId, index) =>
              expect.objectContaining({ recordId, result: plan[index] === "ok" ? "Ok" : "ProcessingFailed" }),
            ),
          });
      }),
      { numRuns: 150 },
    );
  });

  it("S3 through SQS: fails exactly the messages whose body is bad or whose object failed; test events succeed", async () => {
    const fn = defineFunction({
      name: "property-objects",
      trigger: triggers.objectCreated({ bucket: "sensor-raw", prefix: "readings/" }),
      async handler(event) {
        if (event.key.includes("/fail-")) throw new Error(`cannot handle ${event.key}`);
      },
    });
    const handler = toLambda(fn, { store, logLevel: "error" });
    const steps = fc.array(fc.constantFrom("ok", "fail", "malformed", "test-event", "other-bucket"), { minLength: 1, maxLength: 10 });
    await fc.assert(
      fc.asyncProperty(steps, async (plan) => {
        const bodies = plan.map((step, index) => {
          if (step === "malformed") return '{"Records": "nope"}';
          if (step === "test-event") return json({ Service: "Amazon S3", Event: "s3:TestEvent", Bucket: "sensor-raw" });
          const bucket = step === "other-bucket" ? "other-bucket" : "sensor-raw";
          return json(s3Created({ bucket, key: `readings/${step}-${index}.ndjson`, size: 1 }));
        });
        const { native, ids } = sqsBatch(bodies);
        const failing = ids.filter((_id, index) => plan[index] === "fail" || plan[index] === "malformed");
        expect(await retried(handler, native)).toEqual(failing.length === ids.length ? "all" : failing);
      }),
      { numRuns: 100 },
    );
  });
});

describe("API Gateway v2 query strings", () => {
  it("read exactly as URLSearchParams reads rawQueryString, split by hand or not", async () => {
    const { queryFromPairs } = await import("@sluice/core");
    const { fromApiGatewayV2 } = await import("../src/index.js");
    const { fixture } = await import("./helpers.js");
    const base = fixture("apigw-v2", "http-api-post") as Record<string, unknown>;
    const queries = fc
      .array(fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom("&", "=", "%", "+", "%2B", "%zz", "?", "tag", "é")), { maxLength: 12 })
      .map((parts) => parts.join(""));
    fc.assert(
      fc.property(queries, (rawQueryString) => {
        expect(fromApiGatewayV2({ ...base, rawQueryString }).query).toStrictEqual(queryFromPairs(new URLSearchParams(rawQueryString)));
      }),
      { numRuns: 500 },
    );
  });
});
