import { FirehoseClient } from "@aws-sdk/client-firehose";
import {
  CreateStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
} from "@aws-sdk/client-kinesis";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from "@aws-sdk/client-sqs";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { startFirehoseServer, startKinesalite, startSqsServer } from "../../../tools/emulators/src/index.js";

const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const region = "us-east-1";
let counter = 0;
/** A name no other test uses. */
export const unique = (prefix: string) => `${prefix}-${process.pid}-${++counter}`;

/** fauxqs (a real SQS emulator), and a client for it. */
export async function sqsServer() {
  const server = await startSqsServer();
  const client = new SQSClient({ endpoint: server.endpoint, region, credentials });
  return {
    ...server,
    client,
    async createQueue(name: string, attributes: Record<string, string> = {}) {
      const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
      const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
      return { url: QueueUrl as string, arn: Attributes?.QueueArn as string };
    },
    /** Receives (and deletes) until at least `count` messages have arrived, as Lambda's poller would. */
    async receive(url: string, count: number): Promise<Message[]> {
      const received: Message[] = [];
      for (let empty = 0; received.length < count && empty < 50; ) {
        const { Messages = [] } = await client.send(
          new ReceiveMessageCommand({
            QueueUrl: url,
            MaxNumberOfMessages: 10,
            MessageAttributeNames: ["All"],
            MessageSystemAttributeNames: ["All"],
          }),
        );
        if (Messages.length === 0) {
          empty++;
          await new Promise((resolve) => setTimeout(resolve, 10));
          continue;
        }
        received.push(...Messages);
        await client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: url,
            Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle as string })),
          }),
        );
      }
      return received;
    },
  };
}

/** kinesalite (a real Kinesis implementation), and a client for it over HTTP/1.1. */
export async function kinesisServer() {
  const server = await startKinesalite();
  const client = new KinesisClient({ endpoint: server.endpoint, region, credentials, requestHandler: new NodeHttpHandler() });
  return {
    ...server,
    client,
    async createStream(name: string, shards = 2): Promise<string> {
      await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
      for (;;) {
        const { StreamDescription } = await client.send(new DescribeStreamCommand({ StreamName: name }));
        if (StreamDescription?.StreamStatus === "ACTIVE") return StreamDescription.StreamARN as string;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    /** Every record of every shard, shard by shard in sequence order, with its shard id. */
    async records(name: string) {
      const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: name }));
      const all = [];
      for (const shard of Shards) {
        let { ShardIterator } = await client.send(
          new GetShardIteratorCommand({ StreamName: name, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON" }),
        );
        while (ShardIterator) {
          const page = await client.send(new GetRecordsCommand({ ShardIterator, Limit: 10_000 }));
          for (const record of page.Records ?? []) all.push({ shardId: shard.ShardId as string, record });
          if ((page.Records ?? []).length === 0) break;
          ShardIterator = page.NextShardIterator;
        }
      }
      return all;
    },
  };
}

/** The protocol-level Firehose server (not the service), and a client for it. */
export async function firehoseServer() {
  const server = await startFirehoseServer();
  const client = new FirehoseClient({ endpoint: server.endpoint, region, credentials });
  return { server, client };
}

/**
 * The event Lambda's SQS poller would deliver for messages ReceiveMessage returned: its quirks kept
 * (lower-camel `messageAttributes` with empty list fields, `md5OfMessageAttributes` null when there are
 * none, system attributes as strings, including FIFO's `MessageGroupId` and `SequenceNumber`).
 */
export function lambdaSqsEvent(messages: Message[], queueArn: string) {
  return {
    Records: messages.map((message) => ({
      messageId: message.MessageId,
      receiptHandle: message.ReceiptHandle,
      body: message.Body,
      attributes: message.Attributes ?? {},
      messageAttributes: Object.fromEntries(
        Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
          name,
          { stringValue: value.StringValue, stringListValues: [], binaryListValues: [], dataType: value.DataType },
        ]),
      ),
      md5OfMessageAttributes: message.MD5OfMessageAttributes ?? null,
      md5OfBody: message.MD5OfBody,
      eventSource: "aws:sqs",
      eventSourceARN: queueArn,
      awsRegion: queueArn.split(":")[3],
    })),
  };
}

/**
 * The event Lambda's Kinesis poller would deliver for records GetRecords returned: data base64,
 * `approximateArrivalTimestamp` in epoch seconds with a fraction, `eventID` as `<shard>:<sequence>`.
 */
export function lambdaKinesisEvent(
  records: Array<{ shardId: string; record: import("@aws-sdk/client-kinesis")._Record }>,
  streamArn: string,
) {
  return {
    Records: records.map(({ shardId, record }) => ({
      kinesis: {
        kinesisSchemaVersion: "1.0",
        partitionKey: record.PartitionKey,
        sequenceNumber: record.SequenceNumber,
        data: Buffer.from(record.Data as Uint8Array).toString("base64"),
        approximateArrivalTimestamp: (record.ApproximateArrivalTimestamp as Date).getTime() / 1000,
      },
      eventSource: "aws:kinesis",
      eventVersion: "1.0",
      eventID: `${shardId}:${record.SequenceNumber}`,
      eventName: "aws:kinesis:record",
      invokeIdentityArn: "arn:aws:iam::123456789012:role/sluice-consumer",
      awsRegion: streamArn.split(":")[3],
      eventSourceARN: streamArn,
    })),
  };
}

/** The transformation invocation Firehose would send a Lambda for records it accepted (direct PUT: no Kinesis metadata). */
export function firehoseTransformationEvent(
  records: Array<{ recordId: string; data: Uint8Array; approximateArrivalTimestamp: number }>,
  streamArn: string,
) {
  return {
    invocationId: crypto.randomUUID(),
    deliveryStreamArn: streamArn,
    region: streamArn.split(":")[3],
    records: records.map((record) => ({
      recordId: record.recordId,
      approximateArrivalTimestamp: record.approximateArrivalTimestamp,
      data: Buffer.from(record.data).toString("base64"),
    })),
  };
}
