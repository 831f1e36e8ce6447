import { CLAIM_CHECK_ATTRIBUTE, HOPS_ATTRIBUTE, type MessagesEvent, defineFunction, destinations, triggers } from "@sluice/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GcsObjectStore, toCloudFunction } from "../src/index.js";
import { capturingLogger } from "./framework.js";
import { emulatorStorage } from "./helpers.js";
import { createSubscription, createTopic, pubsubEmulator, pubsubSkipReason, puller, serve, uniqueName, waitFor } from "./pubsub-helpers.js";

const skip = pubsubSkipReason();
const BYTES = Uint8Array.from([0, 1, 0xfe, 0xff, 0x80, 0xc3, 0x28, 10, 13]);

interface Seen {
  route: "http" | "cloudEvent";
  id: string;
  text: string;
  hex: string;
  attributes: Record<string, string>;
  group?: string;
}

describe.skipIf(skip !== undefined)(
  "two stages through Pub/Sub: a function publishes through toCloudFunction, the emulator pushes to the next through the framework",
  () => {
    const storage = emulatorStorage();
    const store = new GcsObjectStore({ storage });
    const saved = { host: process.env.PUBSUB_EMULATOR_HOST, project: process.env.GOOGLE_CLOUD_PROJECT };
    const topic = uniqueName("readings");
    const big = "z".repeat(10_000_001);
    const seen: Seen[] = [];
    const servers: Array<{ url: string; close(): Promise<void> }> = [];
    let httpConsumerUrl = "";
    let producerUrl = "";

    beforeAll(async () => {
      const emulator = pubsubEmulator();
      // The default sender, as deployed: project and endpoint from the environment the platform gives.
      process.env.PUBSUB_EMULATOR_HOST = emulator.host;
      process.env.GOOGLE_CLOUD_PROJECT = emulator.projectId;
      await createTopic(topic);

      const produce = defineFunction({
        name: `produce-${topic}`,
        trigger: triggers.invoke<{ sensors: number }>(),
        destination: destinations.stream({
          name: topic,
          key: (reading) =>
            typeof reading === "string" ? "big" : reading instanceof Uint8Array ? "bytes" : (reading as { sensor: string }).sensor,
          attributes: () => ({ origin: "produce" }),
          claimCheck: { bucket: "pipeline-claims" },
        }),
        handler: (event) => [
          ...Array.from({ length: event.payload.sensors * 2 }, (_unused, index) => ({
            sensor: `s-${index % event.payload.sensors}`,
            index,
          })),
          big,
          BYTES,
        ],
      });
      const consumer = (route: "http" | "cloudEvent") =>
        defineFunction({
          name: `consume-${route}-${topic}`,
          trigger: triggers.messages({ source: "topic", name: topic }),
          destination: destinations.objectStore<{ event: MessagesEvent; result: { ids: string[] } }>({
            bucket: "pipeline-out",
            key: ({ event }) => `${route}/${event.messages[0]?.id}.json`,
          }),
          async handler(event: MessagesEvent) {
            for (const message of event.messages) {
              const entry: Seen = {
                route,
                id: message.id,
                text: message.text(),
                hex: Buffer.from(message.bytes()).toString("hex"),
                attributes: message.attributes,
              };
              if (message.group !== undefined) entry.group = message.group;
              seen.push(entry);
            }
            return { ids: event.messages.map((message) => message.id) };
          },
        });
      const log = capturingLogger().log;
      toCloudFunction(produce, { storage, log });
      toCloudFunction(consumer("http"), { storage, log, signature: "http" });
      toCloudFunction(consumer("cloudEvent"), { storage, log });
      const producer = await serve(`produce-${topic}`);
      const viaHttp = await serve(`consume-http-${topic}`);
      const viaCloudEvent = await serve(`consume-cloudEvent-${topic}`);
      servers.push(producer, viaHttp, viaCloudEvent);
      producerUrl = producer.url;
      httpConsumerUrl = viaHttp.url;
      // Push subscriptions: one to a function registered as http; one to a cloudEvent function, which the
      // framework serves by converting the push body to a messagePublished CloudEvent (it reads the topic
      // from the endpoint's path, and says so on stderr when the path does not name one).
      await createSubscription(topic, `${topic}-push-http`, { pushConfig: { pushEndpoint: viaHttp.url }, enableMessageOrdering: true });
      await createSubscription(topic, `${topic}-push-ce`, {
        pushConfig: { pushEndpoint: `${viaCloudEvent.url}projects/${emulator.projectId}/topics/${topic}` },
        enableMessageOrdering: true,
      });
      await createSubscription(topic, `${topic}-pull`, { enableMessageOrdering: true });
    }, 60_000);

    afterAll(async () => {
      for (const server of servers) await server.close();
      for (const [name, value] of [
        ["PUBSUB_EMULATOR_HOST", saved.host],
        ["GOOGLE_CLOUD_PROJECT", saved.project],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });

    it("publishes each result with its ordering key, attributes and hop count; claim-checks the oversized one; both consumers read them back", async () => {
      const response = await fetch(producerUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sensors: 3 }),
      });
      expect(response.status).toBe(200);
      await response.arrayBuffer();

      // What the topic holds: 6 readings and one claim check pointing into the claim bucket.
      const pulled = await puller(`${topic}-pull`).pull(8);
      expect(pulled).toHaveLength(8);
      expect(pulled.map(({ message }) => message.orderingKey).sort()).toEqual(["big", "bytes", "s-0", "s-0", "s-1", "s-1", "s-2", "s-2"]);
      const pointer = pulled.find(({ message }) => message.attributes?.[CLAIM_CHECK_ATTRIBUTE] === "1");
      expect(pointer?.message.orderingKey).toBe("big");
      const claim = JSON.parse(Buffer.from(pointer?.message.data ?? "", "base64").toString());
      expect(claim).toMatchObject({ provider: "gcp", bucket: "pipeline-claims", size: big.length });
      expect((await store.head("pipeline-claims", claim.key))?.size).toBe(big.length);
      for (const { message } of pulled) expect(message.attributes).toMatchObject({ origin: "produce", [HOPS_ATTRIBUTE]: "1" });

      await waitFor(() => seen.length >= 16);
      for (const route of ["http", "cloudEvent"] as const) {
        const mine = seen.filter((entry) => entry.route === route);
        expect(mine).toHaveLength(8);
        const bigOne = mine.find((entry) => entry.group === "big" || entry.text.length > 1000);
        // The payload, not the pointer, and no claim-check marker left.
        expect(bigOne?.text).toBe(big);
        expect(bigOne?.attributes).toEqual({ origin: "produce", [HOPS_ATTRIBUTE]: "1" });
        // Bytes that are not UTF-8 arrive exactly, through the push body's base64 and the framework's conversion.
        const bytesOne = mine.find((entry) => entry.hex === Buffer.from(BYTES).toString("hex"));
        expect(bytesOne?.attributes).toEqual({ origin: "produce", [HOPS_ATTRIBUTE]: "1" });
        const readings = mine
          .filter((entry) => entry !== bigOne && entry !== bytesOne)
          .map((entry) => JSON.parse(entry.text) as { sensor: string; index: number });
        expect(readings.map((reading) => reading.index).sort()).toEqual([0, 1, 2, 3, 4, 5]);
        for (const entry of mine.filter((item) => item !== bigOne && item !== bytesOne)) {
          expect(entry.attributes).toEqual({ origin: "produce", [HOPS_ATTRIBUTE]: "1" });
        }
        // The emulator's push bodies leave out orderingKey (its pull answers keep it, above); Pub/Sub's own push
        // bodies carry it, which the next test delivers. The framework's CloudEvent conversion drops it anyway.
        for (const entry of mine) expect(entry.group).toBeUndefined();
        // Each consumer's output is the next hop: its metadata counts two.
        const first = mine[0] as Seen;
        const head = await store.head("pipeline-out", `${route}/${first.id}.json`);
        expect(head?.metadata?.["sluice-hops"]).toBe("2");
      }
    });

    it("keeps the ordering key of a push body as Pub/Sub sends it, built from the emulator's own message", async () => {
      await fetch(`${pubsubEmulator().url}/v1/projects/${pubsubEmulator().projectId}/topics/${topic}:publish`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          messages: [{ data: Buffer.from("keyed").toString("base64"), attributes: { origin: "rest" }, orderingKey: "k-1" }],
        }),
      });
      const [pulledMessage] = (await puller(`${topic}-pull`).pull(1)).slice(-1);
      const message = pulledMessage?.message;
      expect(message?.orderingKey).toBe("k-1");
      const before = seen.length;
      await waitFor(() => seen.filter((entry) => entry.id === message?.messageId).length >= 2);
      const pushBody = {
        message: { ...message, message_id: message?.messageId, publish_time: message?.publishTime },
        subscription: `projects/${pubsubEmulator().projectId}/subscriptions/${topic}-push-http`,
      };
      const response = await fetch(httpConsumerUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(pushBody),
      });
      expect(response.status).toBe(204);
      const redelivered = seen.slice(before).filter((entry) => entry.route === "http" && entry.id === message?.messageId);
      expect(redelivered.map((entry) => ({ text: entry.text, group: entry.group }))).toContainEqual({ text: "keyed", group: "k-1" });
    });
  },
);
