import { describeAdapterContract, describeObjectStore, type ContractInvocation } from "@sluice/core/testing";
import { inject } from "vitest";
import { S3ObjectStore, toLambda } from "../src/index.js";
import { fixture, lambdaContext } from "./helpers.js";
import { httpV2, s3Created, s3Deleted, sqsBatch } from "./native.js";
import { s3rverClient } from "../../../tools/emulators/src/index.js";

const client = s3rverClient(inject("s3rverPort"));
const store = new S3ObjectStore({ client });

describeObjectStore("S3 on s3rver", () => ({
  store,
  bucket: "store-suite",
  // s3rver 3.7.1 reads If-None-Match on GetObject only; on PutObject it ignores it and overwrites.
  conditionalWritesUnsupported: "s3rver 3.7.1 ignores If-None-Match on PutObject",
}));

/** Reads what Lambda itself would see: a throw, a partial batch response, an HTTP response, or success. */
function fromLambdaAnswer(answer: unknown): ContractInvocation {
  const value = answer as Record<string, unknown> | undefined;
  if (value && Array.isArray(value.batchItemFailures)) {
    return {
      ok: true,
      failedMessageIds: (value.batchItemFailures as Array<{ itemIdentifier: string }>).map((item) => item.itemIdentifier),
    };
  }
  if (value && typeof value.statusCode === "number") {
    const body = typeof value.body === "string" ? value.body : "";
    return {
      ok: value.statusCode < 500,
      http: {
        status: value.statusCode,
        headers: (value.headers ?? {}) as Record<string, string>,
        body: value.isBase64Encoded ? Buffer.from(body, "base64").toString("utf8") : body,
      },
    };
  }
  return { ok: true };
}

const sqsS3 = fixture("s3-sqs", "object-created");

describeAdapterContract({
  provider: "aws",
  store: () => store,
  buckets: { source: "contract-raw", output: "contract-out", failures: "contract-failed" },
  async invoke(fn, native) {
    try {
      return fromLambdaAnswer(await toLambda(fn, { s3: client, logLevel: "error" })(native, lambdaContext()));
    } catch (error) {
      return { ok: false, error };
    }
  },
  native: {
    objectCreated: s3Created,
    objectDeleted: s3Deleted,
    http: httpV2,
    schedule: () => ({ ...fixture("schedule", "scheduled-event"), time: new Date().toISOString().replace(/\.\d+Z$/, "Z") }),
    messages: (bodies) => sqsBatch(bodies),
    invoke: (payload) => payload,
  },
  maxBatch: 10,
  messagesTrigger: { source: "queue", name: "sluice-ingest" },
  malformed: [
    { name: "a payload that is no Lambda event", event: { hello: "world" } },
    { name: "a string payload", event: "readings/a.ndjson" },
    { name: "an HTTP request reaching an object function", event: fixture("apigw-v2", "get-no-body") },
    { name: "a Kinesis batch reaching an object function", event: fixture("kinesis", "batch") },
    {
      name: "an S3 record without its object key",
      event: withRecord(fixture("s3", "object-created-put"), (record) => delete record.s3.object.key),
    },
    {
      name: "an S3 record whose key has a broken escape",
      event: withRecord(fixture("s3", "object-created-put"), (record) => (record.s3.object.key = "a%E0%A4%A")),
    },
    { name: "an S3 record with no time", event: withRecord(fixture("s3", "object-created-put"), (record) => delete record.eventTime) },
    {
      name: "an S3 record with a size given as an object",
      event: withRecord(fixture("s3", "object-created-put"), (record) => (record.s3.object.size = {})),
    },
    { name: "S3 Records that are not an array", event: { Records: { eventSource: "aws:s3" } } },
    {
      name: "an S3 record of a future major eventVersion",
      event: withRecord(fixture("s3", "object-created-put"), (record) => (record.eventVersion = "3.0")),
    },
    { name: "an EventBridge S3 event without detail", event: { ...fixture("s3-eventbridge", "object-created"), detail: null } },
    { name: "an SQS message whose body is not JSON", event: withRecord(structuredClone(sqsS3), (record) => (record.body = "not json")) },
    { name: "an SQS message whose body is JSON but no S3 notification", event: fixture("sqs", "single") },
    { name: "an SQS record without a messageId", event: withRecord(structuredClone(sqsS3), (record) => delete record.messageId) },
    { name: "an SNS message that is no S3 notification", event: fixture("sns", "notification") },
  ],
});

function withRecord(event: any, change: (record: any) => unknown): unknown {
  change(event.Records[0]);
  return event;
}
