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
function queueReader(queue: string) {
  const client = queueService.getQueueClient(queue);
  const seen: ReceivedMessage[] = [];
  return async (count: number): Promise<ReceivedMessage[]> => {
    for (let empty = 0; seen.length < count && empty < 20; ) {
      const { receivedMessageItems } = await client.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 300 });
      if (receivedMessageItems.length === 0) empty++;
      for (const item of receivedMessageItems) {
        const { input, triggerMetadata } = storageQueueInvocation(item);
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

describe("Azure Event Hubs on the protocol-level AMQP server (not the service)", () => {
  let server: EventHubsProtocolServer;
  let messaging: AzureMessaging;
  const hubs = Array.from({ length: 8 }, (_unused, index) => `suite-${index}`);
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

  it("talks to the server through the real SDK client: hub properties over $management", async () => {
    const producer = new EventHubProducerClient(server.connectionString, hubs[0] as string);
    try {
      expect(await producer.getPartitionIds()).toEqual(["0", "1", "2", "3"]);
    } finally {
      await producer.close();
    }
  });
});
