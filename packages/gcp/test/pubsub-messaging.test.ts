import type { AddressInfo } from "node:net";
import { getTestServer } from "@google-cloud/functions-framework/testing";
import { MessageDeliveryError, defineFunction, destinations, sendAll, triggers } from "@sluice/core";
import { describeMessageSender } from "@sluice/core/testing";
import { afterAll, describe, expect, it } from "vitest";
import { findPubsubEmulator, pubsubEmulatorSkipReason, startPubsubEmulator } from "../../../tools/emulators/src/index.js";
import { GcpMessagingError, PubsubMessaging, toCloudFunction } from "../src/index.js";
import {
  asReceived,
  createSubscription,
  createTopic,
  emulatorMessaging,
  pubsubEmulator,
  pubsubSkipReason,
  puller,
  uniqueName,
} from "./pubsub-helpers.js";

const skip = pubsubSkipReason();
const senders: PubsubMessaging[] = [];
afterAll(async () => {
  for (const sender of senders) await sender.close();
});

/** A fresh topic with an ordered pull subscription, and the real client library sending to it. */
async function subject(kind: "stream" | "queue", full = false) {
  const topic = uniqueName("suite");
  await createTopic(topic);
  await createSubscription(topic, `${topic}-pull`, { enableMessageOrdering: true });
  const sender = emulatorMessaging();
  senders.push(sender);
  const { pull } = puller(`${topic}-pull`);
  const name = full ? `projects/${pubsubEmulator().projectId}/topics/${topic}` : topic;
  return { sender, target: { kind, name }, receive: async (count: number) => (await pull(count)).map(asReceived) };
}

describe.skipIf(skip !== undefined)(`Pub/Sub on the Pub/Sub emulator${skip ? ` (skipped: ${skip})` : ""}`, () => {
  describeMessageSender("PubsubMessaging, queue as a topic id", { attributes: true, keys: true }, () => subject("queue"));
  describeMessageSender("PubsubMessaging, stream as projects/<p>/topics/<t>", { attributes: true, keys: true }, () =>
    subject("stream", true),
  );

  it("reports exactly the messages Pub/Sub would refuse, publishes the rest, and never retries the refused", async () => {
    const { sender, target, receive } = await subject("queue");
    const ok = (text: string) => ({ body: new TextEncoder().encode(text), attributes: {} });
    const result = await sender.send(target, [
      ok("first"),
      { body: new Uint8Array(0), attributes: {} },
      ok("third"),
      { body: new TextEncoder().encode("long name"), attributes: { ["k".repeat(257)]: "v" } },
      { body: new TextEncoder().encode("long value"), attributes: { k: "v".repeat(1025) } },
      { body: new TextEncoder().encode("long key"), attributes: {}, key: "o".repeat(1025) },
      ok("seventh"),
    ]);
    expect(result.failed.map(({ index, retryable }) => ({ index, retryable }))).toEqual([
      { index: 1, retryable: false },
      { index: 3, retryable: false },
      { index: 4, retryable: false },
      { index: 5, retryable: false },
    ]);
    expect(result.failed[0]?.reason).toMatch(
      /^gcp Pub\/Sub projects\/demo-sluice\/topics\/suite-\w+: message 1 refused: a message needs data/,
    );
    expect(result.failed[1]?.reason).toMatch(/attributes: the name "k+…" is 257 bytes, over the limit of 256/);
    expect(result.failed[2]?.reason).toMatch(/attributes\.k: the value is 1025 bytes, over the limit of 1024/);
    expect(result.failed[3]?.reason).toMatch(/key: the ordering key is 1025 bytes/);
    const received = await receive(3);
    expect(received.map((message) => new TextDecoder().decode(message.body)).sort()).toEqual(["first", "seventh", "third"]);
  });

  it("reports every message of a publish the service refuses (a topic that does not exist) as not retryable, and sendAll names them", async () => {
    const sender = emulatorMessaging();
    senders.push(sender);
    const target = { kind: "queue" as const, name: uniqueName("missing") };
    const messages = ["a", "b", "c"].map((text) => ({
      body: new TextEncoder().encode(text),
      attributes: {},
      key: text === "b" ? "k" : undefined,
    }));
    const result = await sender.send(target, messages);
    expect(result.failed.map(({ index, retryable }) => ({ index, retryable }))).toEqual([
      { index: 0, retryable: false },
      { index: 1, retryable: false },
      { index: 2, retryable: false },
    ]);
    expect(result.failed[0]?.reason).toMatch(/NOT_FOUND/);
    const error = await sendAll(sender, target, messages, { sleep: async () => {} }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MessageDeliveryError);
    expect((error as MessageDeliveryError).failures.map((failure) => failure.index)).toEqual([0, 1, 2]);
  });

  it("reports a publish failure by the message's own index when a message before it was refused before publishing", async () => {
    const sender = emulatorMessaging();
    senders.push(sender);
    const target = { kind: "queue" as const, name: uniqueName("missing") };
    const result = await sender.send(target, [
      { body: new Uint8Array(0), attributes: {} },
      { body: new TextEncoder().encode("b"), attributes: {} },
      { body: new TextEncoder().encode("c"), attributes: {} },
    ]);
    expect(result.failed.map(({ index, reason }) => [index, /NOT_FOUND/.test(reason)])).toEqual([
      [0, false],
      [1, true],
      [2, true],
    ]);
  });

  it("toCloudFunction sends through the messaging option it is given", async () => {
    const { sender, target, receive } = await subject("queue");
    const fn = defineFunction({
      name: `option-${target.name}`,
      trigger: triggers.invoke(),
      destination: destinations.queue({ name: target.name, attributes: () => ({ via: "option" }) }),
      handler: () => ({ ok: true }),
    });
    toCloudFunction(fn, { messaging: sender, logLevel: "error" });
    const server = getTestServer(fn.name);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
        method: "POST",
        body: "{}",
        headers: { "content-type": "application/json" },
      });
      expect(response.status).toBe(200);
    } finally {
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    const [message] = await receive(1);
    expect(new TextDecoder().decode(message?.body)).toBe('{"ok":true}');
    expect(message?.attributes).toEqual({ via: "option", "sluice-hops": "1" });
  });

  it("resumes an ordering key after a failed publish, so the same sender can send that key again", async () => {
    const { sender, target, receive } = await subject("stream");
    const missing = { kind: "stream" as const, name: uniqueName("missing") };
    const keyed = (text: string) => ({ body: new TextEncoder().encode(text), attributes: {}, key: "sensor-1" });
    expect((await sender.send(missing, [keyed("lost-1"), keyed("lost-2")])).failed).toHaveLength(2);
    // The library would refuse every later "sensor-1" message on that topic until resumed; on this topic it never paused.
    expect((await sender.send(missing, [keyed("lost-3")])).failed[0]?.reason).toMatch(/NOT_FOUND/);
    await createTopic(missing.name);
    await createSubscription(missing.name, `${missing.name}-pull`, { enableMessageOrdering: true });
    expect((await sender.send(missing, [keyed("after-1"), keyed("after-2")])).failed).toEqual([]);
    const { pull } = puller(`${missing.name}-pull`);
    expect((await pull(2)).map(({ message }) => [Buffer.from(message.data ?? "", "base64").toString(), message.orderingKey])).toEqual([
      ["after-1", "sensor-1"],
      ["after-2", "sensor-1"],
    ]);
    expect((await sender.send(target, [keyed("x")])).failed).toEqual([]);
    expect(await receive(1)).toHaveLength(1);
  });
});

describe("PubsubMessaging without a server", () => {
  it("refuses a topic name Pub/Sub would refuse, saying which field and why", async () => {
    const sender = new PubsubMessaging({ projectId: "p" });
    for (const name of ["ab", "1abc", "goog-topic", "projects/p/topics/a b", "has space"]) {
      const error = await sender.topicPath({ kind: "queue", name }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(GcpMessagingError);
      expect(error).toMatchObject({ code: "BAD_TOPIC", provider: "gcp", service: "pubsub", field: "name" });
    }
    expect(await sender.topicPath({ kind: "queue", name: "readings" })).toBe("projects/p/topics/readings");
    expect(await sender.topicPath({ kind: "queue", name: "projects/other/topics/readings" })).toBe("projects/other/topics/readings");
  });

  it("names the project variables when a topic id has no project", async () => {
    const saved = Object.fromEntries(["GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "GCP_PROJECT"].map((name) => [name, process.env[name]]));
    for (const name of Object.keys(saved)) delete process.env[name];
    try {
      const sender = new PubsubMessaging({
        pubsub: { topic: () => ({}) as never, auth: { getProjectId: () => Promise.reject(new Error("no metadata server")) } },
      });
      const error = await sender.topicPath({ kind: "queue", name: "readings" }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: "NO_PROJECT", field: "projectId" });
      expect(String((error as Error).message)).toMatch(/set GOOGLE_CLOUD_PROJECT or GCLOUD_PROJECT or GCP_PROJECT/);
      process.env.GCP_PROJECT = "from-env";
      expect(await new PubsubMessaging().topicPath({ kind: "queue", name: "readings" })).toBe("projects/from-env/topics/readings");
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it("takes Pub/Sub's limits, and lower ones, never higher", () => {
    const target = { kind: "queue" as const, name: "t" };
    expect(new PubsubMessaging().limits(target)).toEqual({
      maxMessageBytes: 10_000_000,
      maxBatchMessages: 1000,
      maxBatchBytes: 10_000_000,
    });
    expect(new PubsubMessaging({ limits: { maxBatchMessages: 5000, maxMessageBytes: 1000 } }).limits(target)).toEqual({
      maxMessageBytes: 1000,
      maxBatchMessages: 1000,
      maxBatchBytes: 10_000_000,
    });
    expect(new PubsubMessaging().size(target, { body: new Uint8Array(10), attributes: { ab: "cde", é: "x" }, key: "kk" })).toBe(
      10 + 5 + 3 + 2,
    );
  });
});

describe("PubsubMessaging with the real client library and no credentials", () => {
  it("fails the send with a typed error before any publish, leaving no unhandled rejection behind", async () => {
    const saved = { credentials: process.env.GOOGLE_APPLICATION_CREDENTIALS, host: process.env.PUBSUB_EMULATOR_HOST };
    process.env.GOOGLE_APPLICATION_CREDENTIALS = "/nonexistent/sluice-test-credentials.json";
    delete process.env.PUBSUB_EMULATOR_HOST;
    try {
      const error = await new PubsubMessaging({ projectId: "p" })
        .send({ kind: "queue", name: "readings" }, [{ body: new Uint8Array([1]), attributes: {} }])
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(GcpMessagingError);
      expect(error).toMatchObject({ code: "NO_CREDENTIALS", provider: "gcp", service: "pubsub", field: "credentials" });
      expect(String((error as Error).message)).toMatch(/GOOGLE_APPLICATION_CREDENTIALS/);
    } finally {
      for (const [name, value] of [
        ["GOOGLE_APPLICATION_CREDENTIALS", saved.credentials],
        ["PUBSUB_EMULATOR_HOST", saved.host],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

describe("the Pub/Sub emulator helper on a machine without the emulator", () => {
  const nowhere = ["/nonexistent/google-cloud-sdk"];

  it("fails saying what to install, and skips only when SLUICE_ALLOW_MISSING_PUBSUB_EMULATOR=1", async () => {
    const saved = process.env.SLUICE_ALLOW_MISSING_PUBSUB_EMULATOR;
    try {
      delete process.env.SLUICE_ALLOW_MISSING_PUBSUB_EMULATOR;
      expect(findPubsubEmulator(nowhere)).toBeUndefined();
      expect(pubsubEmulatorSkipReason(nowhere)).toBeUndefined();
      await expect(startPubsubEmulator({ sdkRoots: nowhere })).rejects.toThrow(
        /the Pub\/Sub emulator was not found .*install the Google Cloud CLI with its Pub\/Sub emulator.*SLUICE_ALLOW_MISSING_PUBSUB_EMULATOR=1/,
      );
      process.env.SLUICE_ALLOW_MISSING_PUBSUB_EMULATOR = "1";
      expect(pubsubEmulatorSkipReason(nowhere)).toMatch(
        /not installed \(SLUICE_ALLOW_MISSING_PUBSUB_EMULATOR=1\): install the Google Cloud CLI/,
      );
    } finally {
      if (saved === undefined) delete process.env.SLUICE_ALLOW_MISSING_PUBSUB_EMULATOR;
      else process.env.SLUICE_ALLOW_MISSING_PUBSUB_EMULATOR = saved;
    }
  });
});
