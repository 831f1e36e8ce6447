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
