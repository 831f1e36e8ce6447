import { CreateDeliveryStreamCommand } from "@aws-sdk/client-firehose";
import { CLAIM_CHECK_ATTRIBUTE, HOPS_ATTRIBUTE, MessageDeliveryError, sendAll } from "@sluice/core";
import { describeMessageSender } from "@sluice/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsMessaging, AwsMessagingError, SQS_BODY_ENCODING_ATTRIBUTE, fromSqsMessages } from "../src/index.js";
import { loadSdk } from "../src/messaging/errors.js";
import { firehoseServer, kinesisServer, lambdaSqsEvent, sqsServer, unique } from "./messaging-servers.js";

const text = new TextEncoder();
const utf8 = new TextDecoder();
const fast = { backoffMs: 1 };

let sqs: Awaited<ReturnType<typeof sqsServer>>;
let kinesis: Awaited<ReturnType<typeof kinesisServer>>;
let firehose: Awaited<ReturnType<typeof firehoseServer>>;

beforeAll(async () => {
  [sqs, kinesis, firehose] = await Promise.all([sqsServer(), kinesisServer(), firehoseServer()]);
});
afterAll(async () => {
  await Promise.all([sqs?.stop(), kinesis?.stop(), firehose?.server.stop()]);
});

describe("AwsMessaging on SQS (fauxqs, a real SQS emulator)", () => {
  const messaging = () => new AwsMessaging({ clients: { sqs: sqs.client } });

  for (const fifo of [false, true]) {
    describeMessageSender(
      `SQS ${fifo ? "FIFO" : "standard"} queue on fauxqs`,
      { attributes: true, keys: fifo, manyMessages: 130 },
      async () => {
        const name = unique("suite") + (fifo ? ".fifo" : "");
        // The queue enforces the limit the sender cuts by (256 KiB), so the largest message is proven to fit.
        const queue = await sqs.createQueue(name, { MaximumMessageSize: "262144", ...(fifo ? { FifoQueue: "true" } : {}) });
        return {
          sender: messaging(),
          target: { kind: "queue", name },
          receive: async (count) => {
            const received = await sqs.receive(queue.url, count);
            // Through the package's own translator, so that base64 bodies are decoded as a consumer sees them.
            const { data, rejected } = fromSqsMessages(lambdaSqsEvent(received, queue.arn));
            expect(rejected).toEqual([]);
            return data.messages.map((message) => ({ body: message.body, attributes: message.attributes, key: message.group }));
          },
        };
      },
    );
  }

  it("sends bodies SQS cannot carry as text as base64 with an attribute, and the translator gives the bytes back", async () => {
    const name = unique("binary");
    const queue = await sqs.createQueue(name);
    const bodies = [
      Uint8Array.from([0xef, 0xbb, 0xbf, 0x41]),
      text.encode("bell \u0007"),
      text.encode("\uFFFE"),
      new Uint8Array(0),
      text.encode("fine ✓"),
    ];
    await sendAll(
      messaging(),
      { kind: "queue", name },
      bodies.map((body) => ({ body, attributes: {} })),
      fast,
    );
    const received = await sqs.receive(queue.url, bodies.length);
    const encoded = received.filter((message) => message.MessageAttributes?.[SQS_BODY_ENCODING_ATTRIBUTE]?.StringValue === "base64");
    expect(encoded).toHaveLength(4);
    const { data } = fromSqsMessages(lambdaSqsEvent(received, queue.arn));
    expect(data.messages.map((message) => Buffer.from(message.body).toString("hex")).sort()).toEqual(
      bodies.map((body) => Buffer.from(body).toString("hex")).sort(),
    );
    expect(data.messages.every((message) => !(SQS_BODY_ENCODING_ATTRIBUTE in message.attributes))).toBe(true);
  });

  it("resolves a queue by URL and by ARN as well as by name", async () => {
    const name = unique("by");
    const queue = await sqs.createQueue(name);
    const sender = messaging();
    await sendAll(sender, { kind: "queue", name: queue.url }, [{ body: text.encode("url"), attributes: {} }], fast);
    await sendAll(sender, { kind: "queue", name: queue.arn }, [{ body: text.encode("arn"), attributes: {} }], fast);
    expect((await sqs.receive(queue.url, 2)).map((message) => message.Body).sort()).toEqual(["arn", "url"]);
  });

  it("reports exactly the entries the queue refused, for good, and sends the others", async () => {
    const name = unique("small");
    // MaximumMessageSize 1,024: SQS refuses the larger entries of the batch one by one, with SenderFault.
    const queue = await sqs.createQueue(name, { MaximumMessageSize: "1024" });
    const sender = messaging();
    const messages = [10, 2000, 20, 3000, 30].map((size, index) => ({
      body: text.encode(String(index).padEnd(size, "x")),
      attributes: {},
    }));
    const { failed } = await sender.send({ kind: "queue", name }, messages);
    expect(failed.map(({ index, retryable }) => ({ index, retryable }))).toEqual([
      { index: 1, retryable: false },
      { index: 3, retryable: false },
    ]);
    expect(failed[0]?.reason).toMatch(/^SQS /);
    expect((await sqs.receive(queue.url, 3)).map((message) => message.Body?.[0]).sort()).toEqual(["0", "2", "4"]);
    const error = await sendAll(sender, { kind: "queue", name }, messages, fast).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MessageDeliveryError);
    expect((error as MessageDeliveryError).failures.map((failure) => failure.index)).toEqual([1, 3]);
  });

  it("sends again exactly the entries SQS refused as its own fault (SenderFault false), through the real SDK", async () => {
    const name = unique("transient");
    const queue = await sqs.createQueue(name);
    const attempts = new Map<string, number>();
    // Bodies 4, 9 and 17 are refused on their first two attempts: the second attempt's batch holds only
    // them, so SQS refuses a whole batch entry by entry too.
    sqs.refuse((entry) => {
      const seen = (attempts.get(entry.MessageBody) ?? 0) + 1;
      attempts.set(entry.MessageBody, seen);
      if (["4", "9", "17"].includes(entry.MessageBody) && seen <= 2)
        return entry.MessageBody === "9" ? "ServiceUnavailable" : "InternalError";
      return undefined;
    });
    try {
      const messages = Array.from({ length: 20 }, (_unused, index) => ({ body: text.encode(String(index)), attributes: {} }));
      await sendAll(messaging(), { kind: "queue", name }, messages, fast);
    } finally {
      sqs.refuse(undefined);
    }
    const bodies = (await sqs.receive(queue.url, 20)).map((message) => Number(message.Body));
    expect(bodies.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_unused, index) => index));
    expect([...attempts].filter(([, count]) => count > 1)).toEqual([
      ["4", 3],
      ["9", 3],
      ["17", 3],
    ]);
  });

  it("refuses, alone, a message with more attributes than SQS takes", async () => {
    const name = unique("attributes");
    await sqs.createQueue(name);
    const attributes = Object.fromEntries(Array.from({ length: 11 }, (_unused, index) => [`a${index}`, "v"]));
    const { failed } = await messaging().send({ kind: "queue", name }, [
      { body: text.encode("ok"), attributes: {} },
      { body: text.encode("too many"), attributes },
    ]);
    expect(failed).toEqual([
      { index: 1, reason: expect.stringMatching(/\[aws\/sqs\] MessageAttributes: a message has 11 attributes/), retryable: false },
    ]);
  });

  it("refuses, alone and with the attribute's name, an attribute SQS would refuse", async () => {
    const name = unique("bad-attribute");
    await sqs.createQueue(name);
    const { failed } = await messaging().send({ kind: "queue", name }, [
      { body: text.encode("empty"), attributes: { origin: "" } },
      { body: text.encode("ok"), attributes: { origin: "x" } },
      { body: text.encode("space"), attributes: { "has space": "x" } },
      { body: text.encode("reserved"), attributes: { "AWS.trace": "x" } },
    ]);
    expect(failed.map((failure) => [failure.index, failure.reason, failure.retryable])).toEqual([
      [0, "[aws/sqs] MessageAttributes.origin: SQS refuses an empty attribute value", false],
      [2, "[aws/sqs] MessageAttributes.has space: a name is 1 to 256 letters, digits, _, - and . (no .. and no . at either end)", false],
      [3, "[aws/sqs] MessageAttributes.AWS.trace: names starting with AWS. or Amazon. are reserved", false],
    ]);
  });

  it("says which queue does not exist, without retrying", async () => {
    const error = await sendAll(messaging(), { kind: "queue", name: "no-such-queue" }, [{ body: text.encode("x"), attributes: {} }]).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(MessageDeliveryError);
    expect(String(error)).toMatch(/\[aws\/sqs\] QueueUrl: queue "no-such-queue" does not exist/);
  });

  it("sizes a message as SQS counts it: encoded body, attribute names, types and values", () => {
    const sender = messaging();
    const target = { kind: "queue" as const, name: "q" };
    expect(sender.size(target, { body: text.encode("abc"), attributes: { [HOPS_ATTRIBUTE]: "1" } })).toBe(3 + 11 + 6 + 1);
    // Two bytes become base64 "AP8=" (4), plus the encoding attribute (20 + 6 + 6).
    expect(sender.size(target, { body: Uint8Array.from([0, 255]), attributes: {} })).toBe(4 + 32);
    expect(sender.limits(target)).toEqual({ maxMessageBytes: 262_144, maxBatchMessages: 10, maxBatchBytes: 262_144 });
    expect(
      new AwsMessaging({ limits: { sqs: { maxMessageBytes: 1_048_576, maxBatchBytes: 1_048_576 } } }).limits(target).maxMessageBytes,
    ).toBe(1_048_576);
  });
});

describe("AwsMessaging on Kinesis Data Streams (kinesalite, a real Kinesis implementation)", () => {
  const messaging = () => new AwsMessaging({ clients: { kinesis: kinesis.client }, defaultStreamService: "kinesis" });

  describeMessageSender("Kinesis on kinesalite", { attributes: false, keys: true }, async () => {
    const name = unique("suite");
    await kinesis.createStream(name);
    return {
      sender: messaging(),
      target: { kind: "stream", name },
      receive: async (count) => {
        const records = await kinesis.records(name);
        expect(records.length).toBeGreaterThanOrEqual(count);
        return records.map(({ record }) => ({ body: record.Data as Uint8Array, key: record.PartitionKey }));
      },
    };
  });

  it("derives a stable partition key from the body when the destination gives none, and sends to a stream named by ARN", async () => {
    const name = unique("keys");
    const arn = await kinesis.createStream(name);
    const sender = new AwsMessaging({ clients: { kinesis: kinesis.client } });
    expect(sender.service({ kind: "stream", name: arn })).toBe("kinesis");
    const body = text.encode('{"same":true}');
    await sendAll(
      sender,
      { kind: "stream", name: arn },
      [
        { body, attributes: {} },
        { body, attributes: {} },
        { body: text.encode("other"), attributes: {} },
      ],
      fast,
    );
    const keys = (await kinesis.records(name)).map(({ record }) => record.PartitionKey as string);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(2);
    expect(keys.every((key) => /^[0-9a-f]{64}$/.test(key))).toBe(true);
  });

  it("sends again exactly the records Kinesis refused (FailedRecordCount), through the real SDK, and gives up on a KMS refusal at once", async () => {
    const name = unique("throttled");
    await kinesis.createStream(name);
    const attempts = new Map<string, number>();
    const body = (record: { Data: string }) => Buffer.from(record.Data, "base64").toString("utf8");
    // Records 2, 250 and 499 are throttled on their first two attempts: the second attempt holds only them.
    kinesis.refuse((record) => {
      const seen = (attempts.get(body(record)) ?? 0) + 1;
      attempts.set(body(record), seen);
      return ["2", "250", "499"].includes(body(record)) && seen <= 2 ? "ProvisionedThroughputExceededException" : undefined;
    });
    try {
      const messages = Array.from({ length: 600 }, (_unused, index) => ({ body: text.encode(String(index)), attributes: {} }));
      await sendAll(messaging(), { kind: "stream", name }, messages, fast);
    } finally {
      kinesis.refuse(undefined);
    }
    const written = (await kinesis.records(name)).map(({ record }) => Number(utf8.decode(record.Data)));
    expect(written.sort((a, b) => a - b)).toEqual(Array.from({ length: 600 }, (_unused, index) => index));
    expect([...attempts].filter(([, count]) => count > 1)).toEqual([
      ["2", 3],
      ["250", 3],
      ["499", 3],
    ]);

    let refusedB = 0;
    kinesis.refuse((record) => {
      if (body(record) !== "b") return undefined;
      refusedB++;
      return "KMSAccessDeniedException";
    });
    try {
      const error = await sendAll(
        messaging(),
        { kind: "stream", name },
        ["a", "b"].map((value) => ({ body: text.encode(value), attributes: {} })),
        fast,
      ).catch((caught: unknown) => caught);
      expect((error as MessageDeliveryError).failures).toEqual([
        { index: 1, reason: expect.stringMatching(/^Kinesis KMSAccessDeniedException/) },
      ]);
    } finally {
      kinesis.refuse(undefined);
    }
    expect(refusedB).toBe(1);
  });

  it("wraps a claim check, Kinesis having no attributes", async () => {
    const name = unique("claim");
    await kinesis.createStream(name, 1);
    const pointer = text.encode('{"provider":"aws","bucket":"b","key":"k","size":9}');
    await sendAll(
      messaging(),
      { kind: "stream", name },
      [{ body: pointer, attributes: { [CLAIM_CHECK_ATTRIBUTE]: "1", [HOPS_ATTRIBUTE]: "1" } }],
      fast,
    );
    const [first] = await kinesis.records(name);
    const record = first?.record as { Data: Uint8Array };
    expect(utf8.decode(record.Data)).toBe(`{"sluice-claim-check":${utf8.decode(pointer)}}`);
  });

  it("reports a throttled record by its own index when a record before it was refused before the call", async () => {
    const name = unique("mixed");
    await kinesis.createStream(name);
    const body = (record: { Data: string }) => Buffer.from(record.Data, "base64").toString("utf8");
    kinesis.refuse((record) => (body(record) === "c" ? "ProvisionedThroughputExceededException" : undefined));
    try {
      // "a" never reaches Kinesis (its partition key is too long): the call holds b, c, d at positions 0, 1, 2.
      const { failed } = await messaging().send({ kind: "stream", name }, [
        { body: text.encode("a"), attributes: {}, key: "k".repeat(257) },
        { body: text.encode("b"), attributes: {} },
        { body: text.encode("c"), attributes: {} },
        { body: text.encode("d"), attributes: {} },
      ]);
      expect(failed.map(({ index, retryable }) => ({ index, retryable }))).toEqual([
        { index: 0, retryable: false },
        { index: 2, retryable: true },
      ]);
      expect(failed[1]?.reason).toMatch(/^Kinesis ProvisionedThroughputExceededException/);
    } finally {
      kinesis.refuse(undefined);
    }
    expect((await kinesis.records(name)).map(({ record }) => utf8.decode(record.Data)).sort()).toEqual(["b", "d"]);
  });

  it("says which stream does not exist, without retrying", async () => {
    const error = await sendAll(messaging(), { kind: "stream", name: "no-such-stream" }, [
      { body: text.encode("x"), attributes: {} },
    ]).catch((caught: unknown) => caught);
    expect(String(error)).toMatch(/\[aws\/kinesis\] StreamName: stream "no-such-stream" does not exist/);
  });
});

describe("AwsMessaging on Data Firehose (a protocol-level server, not the service)", () => {
  const messaging = (options: { firehoseNewline?: boolean } = {}) =>
    new AwsMessaging({ clients: { firehose: firehose.client }, ...options });
  const createStream = async (name: string, bucket?: string) =>
    firehose.client.send(
      new CreateDeliveryStreamCommand({
        DeliveryStreamName: name,
        ...(bucket
          ? {
              ExtendedS3DestinationConfiguration: {
                BucketARN: `arn:aws:s3:::${bucket}`,
                RoleARN: "arn:aws:iam::123456789012:role/firehose",
                Prefix: "readings/",
              },
            }
          : {}),
      }),
    );

  // Bytes exactly as sent: the suite runs without the newline Firehose records get by default.
  describeMessageSender("Firehose on the protocol-level server, without newlines", { attributes: false, keys: false }, async () => {
    const name = unique("suite");
    await createStream(name);
    return {
      sender: messaging({ firehoseNewline: false }),
      target: { kind: "stream", name },
      receive: async (count) => {
        const records = firehose.server.records(name);
        expect(records.length).toBeGreaterThanOrEqual(count);
        return records.map((record) => ({ body: record.data }));
      },
    };
  });

  it("ends each record with a newline by default, unless it has one, so JSON lands as NDJSON", async () => {
    const name = unique("ndjson");
    await createStream(name);
    const bodies = ['{"a":1}', "line\n", '"text"'].map((body) => ({ body: text.encode(body), attributes: {} }));
    const sender = messaging();
    expect(sender.size({ kind: "stream", name }, bodies[0] as never)).toBe(8);
    expect(sender.size({ kind: "stream", name }, bodies[1] as never)).toBe(5);
    await sendAll(sender, { kind: "stream", name }, bodies, fast);
    expect(firehose.server.records(name).map((record) => utf8.decode(record.data))).toEqual(['{"a":1}\n', "line\n", '"text"\n']);
  });

  it("sends again exactly the records Firehose refused (FailedPutCount), through the real SDK", async () => {
    const name = unique("refused");
    await createStream(name);
    const attempts = new Map<string, number>();
    // Records 3 and 7 are refused on their first two attempts; record 5 once.
    firehose.server.refuse((record) => {
      const index = utf8.decode(record.data).trim();
      const seen = (attempts.get(index) ?? 0) + 1;
      attempts.set(index, seen);
      if ((index === "3" || index === "7") && seen <= 2) return "ServiceUnavailableException";
      if (index === "5" && seen === 1) return "InternalFailure";
      return undefined;
    });
    try {
      const messages = Array.from({ length: 10 }, (_unused, index) => ({ body: text.encode(String(index)), attributes: {} }));
      await sendAll(messaging(), { kind: "stream", name }, messages, fast);
    } finally {
      firehose.server.refuse(undefined);
    }
    const delivered = firehose.server.records(name).map((record) => utf8.decode(record.data).trim());
    expect([...delivered].sort()).toEqual(["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    expect(Object.fromEntries(attempts)).toEqual({ 0: 1, 1: 1, 2: 1, 3: 3, 4: 1, 5: 2, 6: 1, 7: 3, 8: 1, 9: 1 });
  });

  it("fails the delivery naming the records still refused after the last attempt", async () => {
    const name = unique("stuck");
    await createStream(name);
    firehose.server.refuse((record) => (utf8.decode(record.data).trim() === "1" ? "ServiceUnavailableException" : undefined));
    try {
      const messages = ["0", "1", "2"].map((body) => ({ body: text.encode(body), attributes: {} }));
      const error = await sendAll(messaging(), { kind: "stream", name }, messages, { ...fast, attempts: 3 }).catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(MessageDeliveryError);
      expect((error as MessageDeliveryError).failures).toEqual([
        { index: 1, reason: expect.stringMatching(/^Firehose ServiceUnavailableException/) },
      ]);
    } finally {
      firehose.server.refuse(undefined);
    }
    expect(firehose.server.records(name).map((record) => utf8.decode(record.data))).toEqual(["0\n", "2\n"]);
  });

  it("says which delivery stream does not exist", async () => {
    const error = await sendAll(messaging(), { kind: "stream", name: "no-such-stream" }, [
      { body: text.encode("x"), attributes: {} },
    ]).catch((caught: unknown) => caught);
    expect(String(error)).toMatch(/\[aws\/firehose\] DeliveryStreamName: delivery stream "no-such-stream" does not exist/);
  });
});

describe("AwsMessaging configuration", () => {
  it("routes streams to Firehose by default, to Kinesis by option, ARN or $SLUICE_KINESIS_STREAMS, and queues to SQS", () => {
    const previous = process.env.SLUICE_KINESIS_STREAMS;
    process.env.SLUICE_KINESIS_STREAMS = "clicks, views";
    try {
      const messaging = new AwsMessaging({ streams: { readings: "kinesis", views: "firehose" } });
      expect(messaging.service({ kind: "stream", name: "reports" })).toBe("firehose");
      expect(messaging.service({ kind: "stream", name: "readings" })).toBe("kinesis");
      expect(messaging.service({ kind: "stream", name: "clicks" })).toBe("kinesis");
      expect(messaging.service({ kind: "stream", name: "views" })).toBe("firehose");
      expect(messaging.service({ kind: "stream", name: "arn:aws:kinesis:eu-west-1:123456789012:stream/x" })).toBe("kinesis");
      expect(messaging.service({ kind: "stream", name: "arn:aws:firehose:eu-west-1:123456789012:deliverystream/x" })).toBe("firehose");
      expect(messaging.service({ kind: "queue", name: "readings" })).toBe("sqs");
      expect(new AwsMessaging({ defaultStreamService: "kinesis" }).service({ kind: "stream", name: "x" })).toBe("kinesis");
    } finally {
      if (previous === undefined) delete process.env.SLUICE_KINESIS_STREAMS;
      else process.env.SLUICE_KINESIS_STREAMS = previous;
    }
  });

  it("refuses limits beyond what the service takes, and unknown stream services", () => {
    expect(() => new AwsMessaging({ limits: { sqs: { maxMessageBytes: 2_000_000 } } })).toThrow(
      /\[aws\/sqs\] limits\.sqs\.maxMessageBytes: must be an integer from 1 to 1048576, got 2000000/,
    );
    expect(() => new AwsMessaging({ limits: { firehose: { maxBatchMessages: 501 } } })).toThrow(AwsMessagingError);
    expect(() => new AwsMessaging({ streams: { x: "sns" as never } })).toThrow(/streams\.x must be "firehose" or "kinesis"/);
  });

  it("names the package to install when a service's SDK is missing", async () => {
    const error = await loadSdk("sqs", "@aws-sdk/client-not-installed").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AwsMessagingError);
    expect(error).toMatchObject({
      service: "sqs",
      field: "sdk",
      message: "[aws/sqs] sdk: install @aws-sdk/client-not-installed to send to SQS queues",
    });
  });
});
