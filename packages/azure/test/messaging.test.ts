import { randomUUID } from "node:crypto";
import { EventHubProducerClient } from "@azure/event-hubs";
import { QueueServiceClient } from "@azure/storage-queue";
import { type ReceivedMessage, describeMessageSender } from "@sluice/core/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type EventHubsProtocolServer, startEventHubsProtocolServer } from "../../../tools/emulators/src/index.js";
import { AzureMessaging } from "../src/index.js";
import { fromStorageQueue } from "../src/triggers/storage-queue.js";
import { storageQueueInvocation } from "./host-delivery.js";

const queueConnectionString = inject("azuriteQueueConnectionString");
const queueService = QueueServiceClient.fromConnectionString(queueConnectionString);
const NOW = "2026-11-23T14:05:00.000Z";

/** Reads a queue dry, through the host's delivery and Sluice's translator, as a triggered function would see it. */
function queueReader(queue: string, encoding: "base64" | "none" = "base64") {
  const client = queueService.getQueueClient(queue);
  const seen: ReceivedMessage[] = [];
  return async (count: number): Promise<ReceivedMessage[]> => {
    for (let empty = 0; seen.length < count && empty < 20; ) {
      const { receivedMessageItems } = await client.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 300 });
      if (receivedMessageItems.length === 0) empty++;
      for (const item of receivedMessageItems) {
        const { input, triggerMetadata } = storageQueueInvocation(item, encoding);
        const [message] = fromStorageQueue(input, triggerMetadata, { name: queue, now: NOW }).messages;
        seen.push({ body: message?.body as Uint8Array, attributes: message?.attributes ?? {} });
      }
    }
    return [...seen];
  };
}

describe("Azure Storage Queues on Azurite's queue service (real)", () => {
  const messaging = new AzureMessaging({ env: { AzureWebJobsStorage: queueConnectionString } });
  describeMessageSender("AzureMessaging → Storage Queue (Azurite)", { attributes: true, keys: false }, async () => {
    const name = `suite-${randomUUID().slice(0, 8)}`;
    await queueService.createQueue(name);
    return { sender: messaging, target: { kind: "queue", name }, receive: queueReader(name) };
  });
});

describe("Azure Storage Queues with the host's messageEncoding none, on Azurite", () => {
  const messaging = new AzureMessaging({ env: { AzureWebJobsStorage: queueConnectionString }, queueMessageEncoding: "none" });
  describeMessageSender("AzureMessaging → Storage Queue, messageEncoding none (Azurite)", { attributes: true, keys: false }, async () => {
    const name = `none-${randomUUID().slice(0, 8)}`;
    await queueService.createQueue(name);
    return { sender: messaging, target: { kind: "queue", name }, receive: queueReader(name, "none") };
  });
});

describe("Azurite's queue service enforces the limit AzureMessaging plans for", () => {
  it("takes 64 KiB of message text and refuses one character more", async () => {
    const queue = queueService.getQueueClient(`limit-${randomUUID().slice(0, 8)}`);
    await queue.create();
    await expect(queue.sendMessage("a".repeat(64 * 1024))).resolves.toBeDefined();
    await expect(queue.sendMessage("a".repeat(64 * 1024 + 1))).rejects.toMatchObject({
      statusCode: 413,
      message: expect.stringMatching(/too large/),
    });
  });
});

describe("Azure Event Hubs on the protocol-level AMQP server (not the service)", () => {
  let server: EventHubsProtocolServer;
  let messaging: AzureMessaging;
  const hubs = Array.from({ length: 9 }, (_unused, index) => `suite-${index}`);
  let used = 0;
  beforeAll(async () => {
    server = await startEventHubsProtocolServer({ hubs });
    messaging = new AzureMessaging({ env: { EventHubsConnection: server.connectionString } });
  });
  afterAll(async () => {
    await messaging.close();
    await server.stop();
  });

  describeMessageSender("AzureMessaging → Event Hubs (protocol-level server)", { attributes: true, keys: true }, () => {
    const name = hubs[used++] as string;
    return {
      sender: messaging,
      target: { kind: "stream", name },
      // What the hub holds, as any AMQP consumer reads it. (Through the Functions host, bodies become
      // UTF-8 strings: the end-to-end tests go that way, with text and JSON.)
      receive: async (count: number) => {
        const events = server.received(name);
        expect(events.length).toBeGreaterThanOrEqual(count);
        return events.map((event) => {
          const item: ReceivedMessage = { body: event.body, attributes: event.properties as Record<string, string> };
          if (event.partitionKey !== undefined) item.key = event.partitionKey;
          return item;
        });
      },
    };
  });

  it("takes sends to one partition and reports its properties, through the real SDK client", async () => {
    const hub = hubs[7] as string;
    const producer = new EventHubProducerClient(server.connectionString, hub);
    try {
      const batch = await producer.createBatch({ partitionId: "2" });
      expect(batch.maxSizeInBytes).toBe(1024 * 1024);
      batch.tryAdd({ body: Buffer.from("to partition 2"), properties: { origin: "suite" } });
      await producer.sendBatch(batch);
      expect(server.received(hub).map((event) => [event.partitionId, event.body.toString()])).toEqual([["2", "to partition 2"]]);
      expect(await producer.getPartitionProperties("2")).toMatchObject({ partitionId: "2", lastEnqueuedSequenceNumber: 0, isEmpty: false });
    } finally {
      await producer.close();
    }
  });

  it("refuses a token signed with another key, as the service does", async () => {
    const forged = server.connectionString.replace(/SharedAccessKey=[^;]+/, "SharedAccessKey=bm90LXRoZS1rZXk=");
    const producer = new EventHubProducerClient(forged, hubs[7] as string, { retryOptions: { maxRetries: 0 } });
    try {
      await expect(producer.getPartitionIds()).rejects.toThrow(/InvalidSignature|401|[Uu]nauthorized/);
    } finally {
      await producer.close();
    }
  });

  it("talks to the server through the real SDK client: hub properties over $management", async () => {
    const producer = new EventHubProducerClient(server.connectionString, hubs[0] as string);
    try {
      expect(await producer.getPartitionIds()).toEqual(["0", "1", "2", "3"]);
    } finally {
      await producer.close();
    }
  });
});

describe("AzureMessaging options", () => {
  it("refuses a queue concurrency or an event batch size that cannot work, naming the service and the option", () => {
    // queueConcurrency NaN started no sender at all: every message was reported sent and none was.
    for (const queueConcurrency of [Number.NaN, 0, 1.5]) {
      expect(() => new AzureMessaging({ queueConcurrency })).toThrow(
        expect.objectContaining({ name: "AzureMessagingConfigurationError", service: "Storage Queue", field: "queueConcurrency" }),
      );
    }
    for (const maxEventBatchBytes of [Number.NaN, 1024, 500]) {
      expect(() => new AzureMessaging({ maxEventBatchBytes })).toThrow(
        expect.objectContaining({ name: "AzureMessagingConfigurationError", service: "Event Hubs", field: "maxEventBatchBytes" }),
      );
    }
    expect(() => new AzureMessaging({ queueConcurrency: 4, maxEventBatchBytes: 262_144 })).not.toThrow();
  });
});
