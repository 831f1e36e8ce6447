import { CreateDeliveryStreamCommand } from "@aws-sdk/client-firehose";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import {
  CLAIM_CHECK_ATTRIBUTE,
  HOPS_ATTRIBUTE,
  type MessagesEvent,
  type ObjectCreatedEvent,
  createLogger,
  defineFunction,
  destinations,
  triggers,
} from "@sluice/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { s3rverClient, startS3rver } from "../../../tools/emulators/src/index.js";
import { AwsMessaging, type LambdaBatchResponse, type FirehoseTransformationResponse, toLambda } from "../src/index.js";
import { lambdaContext } from "./helpers.js";
import {
  firehoseServer,
  firehoseTransformationEvent,
  kinesisServer,
  lambdaKinesisEvent,
  lambdaSqsEvent,
  sqsServer,
  unique,
} from "./messaging-servers.js";

const quiet = createLogger({ level: "error", write: () => {} });
const utf8 = new TextDecoder();

let s3: Awaited<ReturnType<typeof startS3rver>>;
let sqs: Awaited<ReturnType<typeof sqsServer>>;
let kinesis: Awaited<ReturnType<typeof kinesisServer>>;
let firehose: Awaited<ReturnType<typeof firehoseServer>>;
const emitted: any[] = [];

beforeAll(async () => {
  [s3, sqs, kinesis, firehose] = await Promise.all([startS3rver(), sqsServer(), kinesisServer(), firehoseServer()]);
  // Its own s3rver, in this worker, because the event emitter must be in the process that reads it.
  s3.server.on("event", (event: unknown) => emitted.push(event));
});
afterAll(async () => {
  await Promise.all([s3?.stop(), sqs?.stop(), kinesis?.stop(), firehose?.server.stop()]);
});

const s3Client = () => s3rverClient(s3.port);
const messaging = (streams: Record<string, "firehose" | "kinesis"> = {}) =>
  new AwsMessaging({ clients: { sqs: sqs.client, kinesis: kinesis.client, firehose: firehose.client }, streams });

async function readObject(bucket: string, key: string): Promise<string> {
  const { Body } = await s3Client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return (await Body?.transformToString("utf8")) ?? "";
}

/** A payload over every service's record limit, so it goes by claim check. */
const big = { sensor: "s-big", samples: "x".repeat(1_100_000) };

describe("a queue destination on SQS (fauxqs), end to end through toLambda", () => {
  it("sends a function's results with the hop count, claim-checks the oversized one into s3rver, and a function triggered by the queue gets them all, failing exactly one", async () => {
    const name = unique("readings");
    const next = unique("next");
    const queue = await sqs.createQueue(name);
    const nextQueue = await sqs.createQueue(next);
    const produce = defineFunction({
      name: "produce",
      trigger: triggers.invoke<{ count: number }>(),
      destination: destinations.queue({
        name,
        claimCheck: { bucket: "contract-out", prefix: "claims/" },
        attributes: (reading) => ({ sensor: (reading as { sensor: string }).sensor }),
      }),
      handler: (event) => [
        ...Array.from({ length: event.payload.count }, (_unused, index) => ({ sensor: `s-${index}`, value: index })),
        big,
        { sensor: "s-bad", value: -1 },
      ],
    });
    await toLambda(produce, { s3: s3Client(), messaging: messaging(), log: quiet })({ count: 12 }, lambdaContext());

    const received = await sqs.receive(queue.url, 14);
    expect(received).toHaveLength(14);
    const checked = received.filter((message) => message.MessageAttributes?.[CLAIM_CHECK_ATTRIBUTE]);
    expect(checked).toHaveLength(1);
    const pointer = JSON.parse(checked[0]?.Body ?? "");
    expect(pointer).toMatchObject({ provider: "aws", bucket: "contract-out", size: JSON.stringify(big).length });
    expect(JSON.parse(await readObject("contract-out", pointer.key))).toEqual(big);
    expect(new Set(received.map((message) => message.MessageAttributes?.[HOPS_ATTRIBUTE]?.StringValue))).toEqual(new Set(["1"]));

    const seen: Array<{ sensor: string; hops: string | undefined; attribute: string | undefined }> = [];
    const consume = defineFunction({
      name: "consume",
      trigger: triggers.messages({ source: "queue", name }),
      destination: destinations.queue({ name: next }),
      handler: (event: MessagesEvent) => {
        for (const message of event.messages) {
          const reading = message.json<{ sensor: string; value?: number }>();
          if (reading.value === -1) message.fail(new Error("negative reading"));
          seen.push({ sensor: reading.sensor, hops: message.attributes[HOPS_ATTRIBUTE], attribute: message.attributes.sensor });
        }
        return [{ count: event.messages.length }];
      },
    });
    const event = lambdaSqsEvent(received, queue.arn);
    const answer = (await toLambda(consume, { s3: s3Client(), messaging: messaging(), log: quiet })(
      event,
      lambdaContext(),
    )) as LambdaBatchResponse;
    const bad = received.find((message) => message.Body?.includes('"s-bad"'));
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: bad?.MessageId }] });
    expect(seen).toHaveLength(14);
    expect(seen.find((entry) => entry.sensor === "s-big")).toEqual({ sensor: "s-big", hops: "1", attribute: "s-big" });
    expect(seen.every((entry) => entry.hops === "1" && entry.attribute === entry.sensor)).toBe(true);

    const [onward] = await sqs.receive(nextQueue.url, 1);
    expect(JSON.parse(onward?.Body ?? "")).toEqual({ count: 14 });
    expect(onward?.MessageAttributes?.[HOPS_ATTRIBUTE]?.StringValue).toBe("2");
  });

  it("on a FIFO queue, keeps equal messages of one output and drops the repeats of a redelivered input", async () => {
    const name = `${unique("alerts")}.fifo`;
    const queue = await sqs.createQueue(name, { FifoQueue: "true" });
    const produce = defineFunction({
      name: "produce",
      trigger: triggers.invoke(),
      destination: destinations.queue({ name, key: () => "sensor-1" }),
      handler: () => ["alert", "alert", "calm"],
    });
    const lambda = toLambda(produce, { s3: s3Client(), messaging: messaging(), log: quiet });
    // The same request twice, as Lambda retries an asynchronous invocation: the same ids, deduplicated.
    await lambda({}, lambdaContext("req-fifo-1"));
    await lambda({}, lambdaContext("req-fifo-1"));
    const first = await sqs.receive(queue.url, 4);
    expect(first.map((message) => message.Body)).toEqual(["alert", "alert", "calm"]);
    // Another request is another input: its messages are new.
    await lambda({}, lambdaContext("req-fifo-2"));
    expect((await sqs.receive(queue.url, 3)).map((message) => message.Body)).toEqual(["alert", "alert", "calm"]);
  });

  it("creates the SQS client on the first send from the environment Lambda gives ($AWS_REGION, credentials, $AWS_ENDPOINT_URL_SQS)", async () => {
    const name = unique("from-env");
    const queue = await sqs.createQueue(name);
    const variables = {
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    };
    const previous = Object.fromEntries(Object.keys(variables).map((key) => [key, process.env[key]]));
    Object.assign(process.env, variables);
    try {
      const produce = defineFunction({
        name: "produce",
        trigger: triggers.invoke(),
        destination: destinations.queue({ name }),
        handler: () => Uint8Array.from([0, 1, 2, 0xff]),
      });
      await toLambda(produce, { s3: s3Client(), log: quiet })({}, lambdaContext());
    } finally {
      for (const [key, value] of Object.entries(previous)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
    const [message] = await sqs.receive(queue.url, 1);
    expect(message?.Body).toBe("AAEC/w==");
    expect(message?.MessageAttributes?.["sluice-body-encoding"]?.StringValue).toBe("base64");
  });
});

describe("a stream destination on Kinesis (kinesalite), end to end through toLambda", () => {
  it("sends results keyed by the destination's key, claim-checks the oversized one, and a function triggered by the stream reads them back", async () => {
    const name = unique("readings");
    const arn = await kinesis.createStream(name, 2);
    const produce = defineFunction({
      name: "produce",
      trigger: triggers.invoke(),
      destination: destinations.stream({
        name,
        key: (reading) => (reading as { sensor: string }).sensor,
        claimCheck: { bucket: "contract-out" },
      }),
      handler: () => [{ sensor: "s-1", value: 1 }, big, { sensor: "s-1", value: 2 }, { sensor: "s-bad", value: -1 }],
    });
    await toLambda(produce, { s3: s3Client(), messaging: messaging({ [name]: "kinesis" }), log: quiet })({}, lambdaContext());

    const records = await kinesis.records(name);
    expect(records.map(({ record }) => record.PartitionKey).sort()).toEqual(["s-1", "s-1", "s-bad", "s-big"]);
    const seen: unknown[] = [];
    const hops: Array<string | undefined> = [];
    const consume = defineFunction({
      name: "consume",
      trigger: triggers.messages({ source: "stream", name }),
      handler: (event: MessagesEvent) => {
        for (const message of event.messages) {
          const reading = message.json<{ sensor: string; value?: number }>();
          if (reading.value === -1) message.fail(new Error("negative reading"));
          seen.push(reading);
          hops.push(message.attributes[HOPS_ATTRIBUTE]);
        }
      },
    });
    const answer = (await toLambda(consume, { s3: s3Client(), messaging: messaging(), log: quiet })(
      lambdaKinesisEvent(records, arn),
      lambdaContext(),
    )) as LambdaBatchResponse;
    const bad = records.find(({ record }) => record.PartitionKey === "s-bad");
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: bad?.record.SequenceNumber }] });
    expect(seen).toHaveLength(4);
    expect(seen).toContainEqual(big);
    // Kinesis carries no attributes: the hop count does not travel (README, "Stream and queue destinations").
    expect(hops).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe("a stream destination on Data Firehose (a protocol-level server, not the service), end to end through toLambda", () => {
  it("sends NDJSON records, claim-checks the oversized one, a transformation function gets them back, and the delivered object is NDJSON", async () => {
    const name = unique("readings");
    const { DeliveryStreamARN } = await firehose.client.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: name,
        ExtendedS3DestinationConfiguration: {
          BucketARN: "arn:aws:s3:::sensor-raw",
          RoleARN: "arn:aws:iam::123456789012:role/firehose",
          Prefix: "firehose/",
        },
      }),
    );
    const produce = defineFunction({
      name: "produce",
      trigger: triggers.invoke(),
      destination: destinations.stream({ name, claimCheck: { bucket: "contract-out" } }),
      handler: () => [{ sensor: "s-1", value: 1 }, big, { sensor: "s-2", value: 2 }],
    });
    await toLambda(produce, { s3: s3Client(), messaging: messaging(), log: quiet })({}, lambdaContext());
    const records = firehose.server.records(name);
    expect(records).toHaveLength(3);
    expect(utf8.decode(records[1]?.data)).toMatch(/^\{"sluice-claim-check":\{"provider":"aws","bucket":"contract-out",.*\}\}\n$/);

    const seen: unknown[] = [];
    const transform = defineFunction({
      name: "transform",
      trigger: triggers.messages({ source: "stream", name }),
      handler: (event: MessagesEvent) => {
        const transformed: Record<string, unknown> = {};
        for (const message of event.messages) {
          const reading = message.json<{ sensor: string }>();
          seen.push(reading);
          transformed[message.id] = reading.sensor === "s-big" ? null : { ...reading, checked: true };
        }
        return { transformed };
      },
    });
    const answer = (await toLambda(transform, { s3: s3Client(), messaging: messaging(), log: quiet })(
      firehoseTransformationEvent(records, DeliveryStreamARN as string),
      lambdaContext(),
    )) as FirehoseTransformationResponse;
    expect(seen).toEqual([{ sensor: "s-1", value: 1 }, big, { sensor: "s-2", value: 2 }]);
    expect(answer.records.map((record) => record.result)).toEqual(["Ok", "Dropped", "Ok"]);
    expect(Buffer.from(answer.records[0]?.data ?? "", "base64").toString("utf8")).toBe('{"sensor":"s-1","value":1,"checked":true}\n');

    const key = await firehose.server.flush(name, async (bucket, objectKey, body) => {
      await s3Client().send(new PutObjectCommand({ Bucket: bucket, Key: objectKey, Body: body }));
    });
    expect(key).toMatch(new RegExp(`^firehose/\\d{4}/\\d{2}/\\d{2}/\\d{2}/${name}-1-`));
    const lines = (await readObject("sensor-raw", key as string)).split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe("");
    expect(JSON.parse(lines[0] as string)).toEqual({ sensor: "s-1", value: 1 });
    expect(JSON.parse(lines[2] as string)).toEqual({ sensor: "s-2", value: 2 });
  });
});

describe("S3 notifications through SQS (s3rver → fauxqs), end to end through toLambda", () => {
  async function waitForEvent(key: string): Promise<any> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const found = emitted.find((event) => event.Records?.[0]?.s3?.object?.key === key);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`s3rver emitted no event for ${key}`);
  }

  it("ignores the s3:TestEvent, runs the object function for each notification, writes its output, and reports exactly the failed message", async () => {
    const name = unique("s3-events");
    const queue = await sqs.createQueue(name);
    // S3 sends this once when the notification configuration is saved (S3 User Guide, "Event message structure").
    await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: queue.url,
        MessageBody: JSON.stringify({
          Service: "Amazon S3",
          Event: "s3:TestEvent",
          Time: new Date().toISOString(),
          Bucket: "sensor-raw",
          RequestId: "5582815E1AEA5ADF",
          HostId: "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
        }),
      }),
    );
    const prefix = `${name}/`;
    const keys = [`${prefix}good one.ndjson`, `${prefix}bad.ndjson`];
    const client = s3Client();
    await client.send(new PutObjectCommand({ Bucket: "sensor-raw", Key: keys[0], Body: '{"v":1}\n{"v":2}\n' }));
    await client.send(new PutObjectCommand({ Bucket: "sensor-raw", Key: keys[1], Body: "fail\n" }));
    // What S3 would do: each notification as the body of one SQS message.
    for (const key of keys) {
      await sqs.client.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify(await waitForEvent(key)) }));
    }

    const received = await sqs.receive(queue.url, 3);
    expect(received).toHaveLength(3);
    const analyze = defineFunction({
      name: "analyze",
      trigger: triggers.objectCreated({ bucket: "sensor-raw", prefix }),
      destination: destinations.objectStore<{ event: { key: string }; result: unknown }>({
        bucket: "sensor-reports",
        key: ({ event }) => `reports/${event.key}.json`,
      }),
      handler: async (event: ObjectCreatedEvent) => {
        const text = await event.text();
        if (text.startsWith("fail")) throw new Error("cannot analyse");
        return { key: event.key, lines: text.trim().split("\n").length };
      },
    });
    const answer = (await toLambda(analyze, { s3: client, messaging: messaging(), log: quiet })(
      lambdaSqsEvent(received, queue.arn),
      lambdaContext(),
    )) as LambdaBatchResponse;
    const failed = received.find((message) => message.Body?.includes("bad.ndjson"));
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: failed?.MessageId }] });
    expect(JSON.parse(await readObject("sensor-reports", `reports/${keys[0]}.json`))).toEqual({ key: keys[0], lines: 2 });
  });
});
