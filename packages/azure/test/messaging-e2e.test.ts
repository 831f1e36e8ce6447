import { randomUUID } from "node:crypto";
import { HttpRequest } from "@azure/functions";
import { BlobServiceClient } from "@azure/storage-blob";
import { createServer, request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { QueueServiceClient, StorageSharedKeyCredential } from "@azure/storage-queue";
import {
  CLAIM_CHECK_ATTRIBUTE,
  HOPS_ATTRIBUTE,
  MessageDeliveryError,
  type MessagesEvent,
  createLogger,
  defineFunction,
  destinations,
  sendAll,
  triggers,
} from "@sluice/core";
import { LocalMessaging } from "@sluice/local";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import {
  AZURITE_ACCOUNT_KEY,
  AZURITE_ACCOUNT_NAME,
  type EventHubsProtocolServer,
  startEventHubsProtocolServer,
} from "../../../tools/emulators/src/index.js";
import { AzureMessaging, AzureMessagingConfigurationError, toAzureFunction } from "../src/index.js";
import { callHandler } from "./azure-native.js";
import { type DequeuedMessage, eventHubsInvocation, storageQueueInvocation } from "./host-delivery.js";

const quiet = createLogger({ level: "error", write: () => {} });
const blobConnectionString = inject("azuriteConnectionString");
const queueConnectionString = inject("azuriteQueueConnectionString");
const queueEndpoint = /QueueEndpoint=([^;]+)/.exec(queueConnectionString)?.[1] as string;
/** One account with both services, as `AzureWebJobsStorage` holds it in a Function App. */
const storageConnectionString = `${blobConnectionString}QueueEndpoint=${queueEndpoint};`;
const queueService = QueueServiceClient.fromConnectionString(queueConnectionString);
const blobService = BlobServiceClient.fromConnectionString(blobConnectionString);
const utf8 = new TextDecoder();

/** The app settings a Function App would have; restored after each test. */
const savedEnv = { ...process.env };
afterEach(() => {
  for (const name of ["AzureWebJobsStorage", "EventHubsConnection"]) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
});

beforeAll(async () => {
  await blobService.getContainerClient("claims").createIfNotExists();
});

function invokeRequest(payload: unknown) {
  return new HttpRequest({
    method: "POST",
    url: "https://sluice.azurewebsites.net/api/invoke/produce",
    body: { string: JSON.stringify(payload) },
  });
}

async function drainQueue(name: string, count: number): Promise<DequeuedMessage[]> {
  const client = queueService.getQueueClient(name);
  const messages: DequeuedMessage[] = [];
  for (let empty = 0; messages.length < count && empty < 20; ) {
    const { receivedMessageItems } = await client.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 300 });
    if (receivedMessageItems.length === 0) empty++;
    messages.push(...receivedMessageItems);
  }
  return messages;
}

interface Seen {
  body: Uint8Array;
  attributes: Record<string, string>;
  group?: string;
}

function recordingConsumer(name: string, trigger: ReturnType<typeof triggers.messages>) {
  const seen: Seen[] = [];
  const fn = defineFunction({
    name,
    trigger,
    handler: (event: MessagesEvent) => {
      for (const message of event.messages) {
        const entry: Seen = { body: message.bytes(), attributes: { ...message.attributes } };
        if (message.group !== undefined) entry.group = message.group;
        seen.push(entry);
      }
    },
  });
  return { fn, seen };
}

describe("queue destinations end to end: Storage Queue on Azurite, through toAzureFunction on both sides", () => {
  it("sends from the app settings alone; an app.storageQueue function gets the exact payloads, the claim-checked one read back from Blob", async () => {
    process.env.AzureWebJobsStorage = storageConnectionString;
    const queue = `e2e-${randomUUID().slice(0, 8)}`;
    await queueService.createQueue(queue);
    const big = { readings: "r".repeat(60_000) };
    const produce = defineFunction({
      name: "produce",
      trigger: triggers.invoke(),
      destination: destinations.queue({ name: queue, claimCheck: { bucket: "claims" } }),
      handler: () => [{ sensor: "s-1", value: 21.5 }, "plain text, ünïcode", Uint8Array.from([0, 0xff, 0x80, 10]), big],
    });
    const answer = await callHandler(toAzureFunction(produce, { register: false, log: quiet }), { input: invokeRequest(null) });
    expect(answer).toMatchObject({ status: 200 });

    const dequeued = await drainQueue(queue, 4);
    const texts = dequeued.map((message) => Buffer.from(message.messageText, "base64").toString("utf8"));
    // What any other consumer of the queue sees: plain payloads where they can be plain.
    expect(texts).toContain('{"sensor":"s-1","value":21.5}');
    expect(texts).toContain("plain text, ünïcode");
    const enveloped = texts.filter((text) => text.startsWith('{"sluice-envelope":1'));
    expect(enveloped).toHaveLength(2);
    expect(enveloped.map((text) => JSON.parse(text).attributes[CLAIM_CHECK_ATTRIBUTE]).sort()).toEqual(["1", undefined]);

    // The consuming function, registered with app.storageQueue in the library's test mode.
    const { fn, seen } = recordingConsumer("consume", triggers.messages({ source: "queue", name: queue }));
    const consume = toAzureFunction(fn, { log: quiet });
    for (const message of dequeued) await callHandler(consume, storageQueueInvocation(message));
    const bodies = seen.map((entry) => Buffer.from(entry.body).toString("hex")).sort();
    expect(bodies).toEqual(
      [
        Buffer.from('{"sensor":"s-1","value":21.5}'),
        Buffer.from("plain text, ünïcode"),
        Buffer.from([0, 0xff, 0x80, 10]),
        Buffer.from(JSON.stringify(big)),
      ]
        .map((body) => body.toString("hex"))
        .sort(),
    );
    // The hop count travels with the enveloped messages; the claim-check marker never reaches the handler.
    const claimed = seen.find((entry) => entry.body.byteLength > 50_000);
    expect(claimed?.attributes).toEqual({ [HOPS_ATTRIBUTE]: "1" });
    expect(seen.find((entry) => entry.body.byteLength === 4)?.attributes).toEqual({ [HOPS_ATTRIBUTE]: "1" });
    expect(seen.find((entry) => utf8.decode(entry.body).startsWith("plain"))?.attributes).toEqual({});
  });

  it('with queueEnvelope "always", hop counts travel on every message and grow along a two-stage pipeline', async () => {
    const store = { blobServiceClient: blobService };
    const messaging = new AzureMessaging({ env: { AzureWebJobsStorage: queueConnectionString }, queueEnvelope: "always" });
    const [first, second] = [`hop1-${randomUUID().slice(0, 8)}`, `hop2-${randomUUID().slice(0, 8)}`];
    await Promise.all([queueService.createQueue(first), queueService.createQueue(second)]);
    const produce = defineFunction({
      name: "produce",
      trigger: triggers.invoke(),
      destination: destinations.queue({ name: first }),
      handler: () => [{ n: 1 }, { n: 2 }],
    });
    await callHandler(toAzureFunction(produce, { register: false, log: quiet, messaging, ...store }), { input: invokeRequest(null) });
    const forward = defineFunction({
      name: "forward",
      trigger: triggers.messages({ source: "queue", name: first }),
      destination: destinations.queue({ name: second }),
      handler: (event: MessagesEvent) => event.messages.map((message) => ({ ...message.json<{ n: number }>(), forwarded: true })),
    });
    const forwarder = toAzureFunction(forward, { log: quiet, messaging, ...store });
    for (const message of await drainQueue(first, 2)) await callHandler(forwarder, storageQueueInvocation(message));
    const { fn, seen } = recordingConsumer("last", triggers.messages({ source: "queue", name: second }));
    const last = toAzureFunction(fn, { log: quiet, messaging, ...store });
    for (const message of await drainQueue(second, 2)) await callHandler(last, storageQueueInvocation(message));
    expect(seen.map((entry) => [JSON.parse(utf8.decode(entry.body)), entry.attributes[HOPS_ATTRIBUTE]])).toEqual([
      [{ n: 1, forwarded: true }, "2"],
      [{ n: 2, forwarded: true }, "2"],
    ]);
  });

  it("re-sends exactly the messages Azure Storage refused, through the real SDK and Azurite", async () => {
    const queue = `refuse-${randomUUID().slice(0, 8)}`;
    await queueService.createQueue(queue);
    // A fault-injecting proxy in front of Azurite: the 2nd and 5th messages' first requests answer 503
    // ServerBusy, as Azure Storage does under load; everything else goes through to the real server.
    const attemptsByBody = new Map<string, number>();
    const upstream = new URL(queueEndpoint);
    const proxy = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const body = Buffer.concat(chunks);
        const encoded = /<MessageText>([^<]*)<\/MessageText>/.exec(body.toString("utf8"))?.[1];
        if (encoded !== undefined) {
          const text = Buffer.from(encoded, "base64").toString("utf8");
          const attempt = (attemptsByBody.get(text) ?? 0) + 1;
          attemptsByBody.set(text, attempt);
          if (attempt === 1 && (text === "m1" || text === "m4")) {
            response.writeHead(503, { "content-type": "application/xml", "x-ms-error-code": "ServerBusy" });
            response.end(
              '<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code><Message>The server is busy.</Message></Error>',
            );
            return;
          }
        }
        const forward = httpRequest(
          { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers },
          (answer) => {
            response.writeHead(answer.statusCode ?? 500, answer.headers);
            answer.pipe(response);
          },
        );
        forward.end(body);
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const { port } = proxy.address() as AddressInfo;
    const client = new QueueServiceClient(
      `http://127.0.0.1:${port}${upstream.pathname}`,
      new StorageSharedKeyCredential(AZURITE_ACCOUNT_NAME, AZURITE_ACCOUNT_KEY),
      // The SDK's own retries off, so that the refusal reaches the sender.
      { retryOptions: { maxTries: 1 } },
    );
    const messaging = new AzureMessaging({ queueServiceClient: client });
    const messages = Array.from({ length: 6 }, (_unused, index) => ({ body: new TextEncoder().encode(`m${index}`), attributes: {} }));
    const first = await messaging.send({ kind: "queue", name: queue }, messages);
    expect(first.failed.map((failure) => [failure.index, failure.retryable])).toEqual([
      [1, true],
      [4, true],
    ]);
    expect(first.failed[0]?.reason).toMatch(new RegExp(`^Storage Queue ${queue} refused the message: ServerBusy`));
    await sendAll(messaging, { kind: "queue", name: queue }, [messages[1], messages[4]] as typeof messages, { backoffMs: 1 });
    const texts = (await drainQueue(queue, 6)).map((message) => Buffer.from(message.messageText, "base64").toString("utf8"));
    expect(texts.sort()).toEqual(["m0", "m1", "m2", "m3", "m4", "m5"]);
    expect(Object.fromEntries(attemptsByBody)).toEqual({ m0: 1, m1: 2, m2: 1, m3: 1, m4: 2, m5: 1 });
    proxy.close();
  });

  it("fails for good, naming the service and the reason, when the queue does not exist or the name cannot be a queue", async () => {
    const messaging = new AzureMessaging({ env: { AzureWebJobsStorage: queueConnectionString } });
    const message = { body: new TextEncoder().encode("x"), attributes: {} };
    let attempts = 0;
    const sleep = async () => {
      attempts++;
    };
    const missing = await sendAll(messaging, { kind: "queue", name: "no-such-queue" }, [message], { sleep }).catch(
      (error: unknown) => error,
    );
    expect(missing).toBeInstanceOf(MessageDeliveryError);
    expect((missing as MessageDeliveryError).failures[0]?.reason).toMatch(/Storage Queue no-such-queue does not exist \(QueueNotFound\)/);
    const invalid = await sendAll(messaging, { kind: "queue", name: "Not_A_Queue" }, [message], { sleep }).catch((error: unknown) => error);
    expect((invalid as MessageDeliveryError).failures[0]?.reason).toMatch(
      /^azure Storage Queue: destination name: "Not_A_Queue" is not a queue name/,
    );
    const unset = await sendAll(new AzureMessaging({ env: {} }), { kind: "queue", name: "jobs" }, [message], { sleep }).catch(
      (error: unknown) => error,
    );
    expect((unset as MessageDeliveryError).failures[0]?.reason).toMatch(
      /^azure Storage Queue: app setting AzureWebJobsStorage: holds no connection string/,
    );
    expect(attempts).toBe(0);
  });
});

describe("destination names Azure cannot have", () => {
  it("are refused when the function is wrapped, naming the service and the field", () => {
    const fn = (destination: ReturnType<typeof destinations.queue>) =>
      defineFunction({ name: "bad", trigger: triggers.invoke(), destination, handler: () => "x" });
    const error = (() => {
      try {
        toAzureFunction(fn(destinations.queue({ name: "Jobs_Queue" })), { register: false, log: quiet });
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(AzureMessagingConfigurationError);
    expect(error).toMatchObject({ provider: "azure", service: "Storage Queue", field: "destination name" });
    expect(() => toAzureFunction(fn(destinations.stream({ name: "-hub-" })), { register: false, log: quiet })).toThrow(
      /^azure Event Hubs: destination name: "-hub-" is not an event hub name/,
    );
    // Another sender (LocalMessaging in a local run of an Azure entry) decides for itself what a name may be.
    const messaging = new LocalMessaging({ root: join(tmpdir(), "sluice-azure-names") });
    expect(() => toAzureFunction(fn(destinations.queue({ name: "Jobs_Queue" })), { register: false, log: quiet, messaging })).not.toThrow();
  });
});

describe("stream destinations end to end: Event Hubs on the protocol-level AMQP server (not the service)", () => {
  let server: EventHubsProtocolServer;
  beforeAll(async () => {
    server = await startEventHubsProtocolServer({ hubs: ["readings", "refusals", "doomed", "ordered"] });
  });
  afterAll(async () => {
    await server.stop();
  });

  it("sends from the app settings alone; an app.eventHub function gets each partition's batch, keys, properties, hops and the claim-checked event", async () => {
    process.env.AzureWebJobsStorage = storageConnectionString;
    process.env.EventHubsConnection = server.connectionString;
    const readings = Array.from({ length: 30 }, (_unused, index) => ({ sensor: `s-${index % 3}`, index }));
    const big = { sensor: "s-0", index: 99, samples: "x".repeat(1_100_000) };
    const produce = defineFunction({
      name: "produce",
      trigger: triggers.invoke(),
      destination: destinations.stream({
        name: "readings",
        key: (reading) => (reading as { sensor: string }).sensor,
        attributes: () => ({ unit: "celsius" }),
        claimCheck: { bucket: "claims" },
      }),
      handler: () => [...readings, big],
    });
    const answer = await callHandler(toAzureFunction(produce, { register: false, log: quiet }), { input: invokeRequest(null) });
    expect(answer).toMatchObject({ status: 200 });
    const events = server.received("readings");
    expect(events).toHaveLength(31);
    expect(events.find((event) => event.properties[CLAIM_CHECK_ATTRIBUTE] === "1")).toMatchObject({ partitionKey: "s-0" });

    // The consuming function, registered with app.eventHub (cardinality many); the host delivers a partition's events per call.
    const { fn, seen } = recordingConsumer("consume", triggers.messages({ source: "stream", name: "readings" }));
    const consume = toAzureFunction(fn, { connection: "EventHubsConnection", log: quiet });
    for (const partition of new Set(events.map((event) => event.partitionId))) {
      const batch = events.filter((event) => event.partitionId === partition);
      await callHandler(consume, eventHubsInvocation(batch, { namespace: "127.0.0.1", eventHubName: "readings" }));
    }
    const received = seen.map((entry) => ({
      value: JSON.parse(utf8.decode(entry.body)),
      group: entry.group,
      attributes: entry.attributes,
    }));
    expect(received).toHaveLength(31);
    for (const sensor of ["s-0", "s-1", "s-2"]) {
      const expected = [...readings, big].filter((reading) => reading.sensor === sensor);
      expect(received.filter((entry) => entry.group === sensor).map((entry) => entry.value)).toEqual(expected);
    }
    expect(new Set(received.map((entry) => JSON.stringify(entry.attributes)))).toEqual(
      new Set([JSON.stringify({ unit: "celsius", [HOPS_ATTRIBUTE]: "1" })]),
    );
  });

  it("re-sends exactly the batch the hub refused, through the real SDK client", async () => {
    const messaging = new AzureMessaging({ env: { EventHubsConnection: server.connectionString } });
    try {
      server.refuseNext("refusals", 1);
      const messages = ["a", "b", "c"].flatMap((key) =>
        [1, 2].map((n) => ({ body: new TextEncoder().encode(`${key}${n}`), attributes: {}, key })),
      );
      const first = await messaging.send({ kind: "stream", name: "refusals" }, messages);
      // One batch per key: the first (key a) was refused whole, and only its events are reported.
      expect(first.failed.map((failure) => [failure.index, failure.retryable])).toEqual([
        [0, true],
        [1, true],
      ]);
      expect(first.failed[0]?.reason).toMatch(/^Event Hubs refusals refused the batch: .*refused by the test/);
      await sendAll(
        messaging,
        { kind: "stream", name: "refusals" },
        first.failed.map((failure) => messages[failure.index]) as typeof messages,
      );
      const stored = server.received("refusals").map((event) => event.body.toString());
      expect(stored.sort()).toEqual(["a1", "a2", "b1", "b2", "c1", "c2"]);
      expect(server.deliveries("refusals")).toBe(4);
    } finally {
      await messaging.close();
    }
  });

  it("holds back a key's later batches once one is refused, so that they cannot overtake it in the partition", async () => {
    // Batches of one event each (the second does not fit beside the first), all with the key "k".
    const messaging = new AzureMessaging({ env: { EventHubsConnection: server.connectionString }, maxEventBatchBytes: 4096 });
    try {
      server.refuseNext("ordered", 1);
      const messages = [1, 2, 3].map((n) => ({ body: new Uint8Array(2500).fill(0x30 + n), attributes: {}, key: "k" }));
      const first = await messaging.send({ kind: "stream", name: "ordered" }, messages);
      expect(first.failed.map((failure) => [failure.index, failure.retryable])).toEqual([
        [0, true],
        [1, true],
        [2, true],
      ]);
      expect(first.failed[1]?.reason).toMatch(/held back: an earlier batch with partition key "k" was refused/);
      expect(server.received("ordered")).toEqual([]);
      await sendAll(messaging, { kind: "stream", name: "ordered" }, messages, { sleep: async () => {} });
      expect(server.received("ordered").map((event) => event.body[0])).toEqual([0x31, 0x32, 0x33]);
    } finally {
      await messaging.close();
    }
  });

  it("gives up with MessageDeliveryError naming every event still refused after the last attempt", async () => {
    const messaging = new AzureMessaging({ env: { EventHubsConnection: server.connectionString } });
    try {
      server.refuseNext("doomed", 10);
      const messages = [1, 2, 3].map((n) => ({ body: new TextEncoder().encode(String(n)), attributes: {} }));
      const error = await sendAll(messaging, { kind: "stream", name: "doomed" }, messages, { attempts: 3, sleep: async () => {} }).catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(MessageDeliveryError);
      expect((error as MessageDeliveryError).failures.map((failure) => failure.index)).toEqual([0, 1, 2]);
      expect(server.deliveries("doomed")).toBe(3);
      expect(server.received("doomed")).toEqual([]);
    } finally {
      await messaging.close();
    }
  });

  it("refuses an unknown hub and a connection string for another hub, naming the setting", async () => {
    const message = { body: new TextEncoder().encode("x"), attributes: {} };
    const sleep = async () => {};
    const messaging = new AzureMessaging({ env: { EventHubsConnection: server.connectionString } });
    try {
      const unknown = await sendAll(messaging, { kind: "stream", name: "nowhere" }, [message], { attempts: 1, sleep }).catch(
        (error: unknown) => error,
      );
      expect((unknown as MessageDeliveryError).failures[0]?.reason).toMatch(/could not be found/);
    } finally {
      await messaging.close();
    }
    const pinned = new AzureMessaging({ env: { EventHubsConnection: `${server.connectionString};EntityPath=other` } });
    const wrong = await sendAll(pinned, { kind: "stream", name: "readings" }, [message], { sleep }).catch((error: unknown) => error);
    expect((wrong as MessageDeliveryError).failures[0]?.reason).toMatch(
      /^azure Event Hubs: app setting EventHubsConnection: its EntityPath is "other", but the destination sends to "readings"/,
    );
  });
});
