import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  CLAIM_CHECK_ATTRIBUTE,
  HOPS_ATTRIBUTE,
  MessageDeliveryError,
  createLogger,
  defineFunction,
  destinations,
  readAllBytes,
  sendAll,
  triggers,
  type MessagesEvent,
  type OutgoingMessage,
} from "@sluice/core";
import { describeMessageSender } from "@sluice/core/testing";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { LocalMessaging, LocalObjectStore, toLocal } from "../src/index.js";
import { tempRoot } from "./helpers.js";

const quiet = createLogger({ level: "error", write: () => {} });

describe("local messaging", () => {
  const roots: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const remove of roots) await remove();
  });
  describeMessageSender("LocalMessaging on the filesystem", { attributes: true, keys: true }, async () => {
    const dir = await tempRoot("messages");
    roots.push(dir.remove);
    const messaging = new LocalMessaging({ root: dir.root });
    const target = { kind: "queue" as const, name: "suite" };
    return {
      sender: messaging,
      target,
      receive: async (count) => {
        const messages = await messaging.peek(target.name, Number.MAX_SAFE_INTEGER);
        expect(messages.length).toBeGreaterThanOrEqual(count);
        return messages.map((message) => ({ body: message.body, attributes: message.attributes, key: message.group }));
      },
    };
  });

  it("reports the messages it could not write instead of throwing, so that those written are not written again", async () => {
    const dir = await tempRoot("partial");
    roots.push(dir.remove);
    const messaging = new LocalMessaging({ root: dir.root });
    const target = { kind: "queue" as const, name: "partial" };
    const text = (value: string) => new TextEncoder().encode(value);
    // The second message cannot be written (its file cannot be serialized), as a full disk would refuse it.
    const messages: OutgoingMessage[] = [
      { body: text("a"), attributes: {} },
      { body: text("b"), attributes: { bad: 1n as unknown as string } },
      { body: text("c"), attributes: {} },
    ];
    const { failed } = await messaging.send(target, messages);
    expect(failed.map((failure) => [failure.index, failure.retryable])).toEqual([
      [1, true],
      [2, true],
    ]);
    await expect(sendAll(messaging, target, messages, { sleep: async () => {} })).rejects.toBeInstanceOf(MessageDeliveryError);
    const written = (await messaging.peek(target.name, 100)).map((message) => new TextDecoder().decode(message.body));
    expect(written).toEqual(["a", "a"]);
  });

  it("refuses a name that would leave its root", () => {
    expect(() => new LocalMessaging({ root: "/tmp/x" }).directory("../etc")).toThrow(/not a valid stream or queue name/);
  });
});

describe("stream and queue destinations, run locally end to end", () => {
  let dir: { root: string; remove: () => Promise<void> };
  beforeEach(async () => {
    dir = await tempRoot("pipeline");
  });
  afterEach(async () => dir.remove());

  const setup = (limits?: { maxMessageBytes: number }) => {
    const store = new LocalObjectStore({ root: join(dir.root, "buckets") });
    const messaging = new LocalMessaging({ root: join(dir.root, "messages"), limits });
    return { store, messaging, options: { store, messaging, log: quiet } };
  };

  it("sends one message per element of an array result, with a hop count; a stage triggered by it reads them", async () => {
    const { store, messaging, options } = setup();
    const produce = defineFunction({
      name: "produce",
      trigger: triggers.invoke<{ count: number }>(),
      destination: destinations.stream({ name: "readings", key: (reading) => (reading as { sensor: string }).sensor }),
      handler: (event) => Array.from({ length: event.payload.count }, (_unused, index) => ({ sensor: `s-${index % 3}`, value: index })),
    });
    const seen: Array<{ value: number; hops: string | undefined; group: string | undefined }> = [];
    const consume = defineFunction({
      name: "consume",
      trigger: triggers.messages({ source: "stream", name: "readings" }),
      destination: destinations.objectStore<{ event: unknown; result: { total: number } }>({ bucket: "totals", key: () => "total.json" }),
      handler: (event: MessagesEvent) => {
        for (const message of event.messages) {
          seen.push({ value: message.json<{ value: number }>().value, hops: message.attributes[HOPS_ATTRIBUTE], group: message.group });
        }
        return { total: seen.reduce((sum, entry) => sum + entry.value, 0) };
      },
    });
    expect((await toLocal(produce, options).invoke({ kind: "invoke", payload: { count: 25 } })).status).toBe("ok");
    const watch = toLocal(consume, options).watch({ batchSize: 10, intervalMs: 5 });
    await watch.idle();
    await watch.close();
    expect(seen.map((entry) => entry.value)).toEqual(Array.from({ length: 25 }, (_unused, index) => index));
    expect(new Set(seen.map((entry) => entry.hops))).toEqual(new Set(["1"]));
    expect(seen[4]?.group).toBe("s-1");
    expect(await messaging.peek("readings", 100)).toEqual([]);
    const total = JSON.parse(new TextDecoder().decode(await readAllBytes(await store.get("totals", "total.json"))));
    expect(total).toEqual({ total: (24 * 25) / 2 });
  });

  it("claim-checks a result too large for a message, and the next stage reads the payload back", async () => {
    const { store, messaging, options } = setup({ maxMessageBytes: 400 });
    const big = "z".repeat(5000);
    const produce = defineFunction({
      name: "produce",
      trigger: triggers.invoke(),
      destination: destinations.queue({ name: "work", claimCheck: { bucket: "claims" } }),
      handler: () => [{ big }, { small: true }],
    });
    const sent = await messaging.peek("work", 10);
    expect(sent).toEqual([]);
    expect((await toLocal(produce, options).invoke({ kind: "invoke", payload: null })).status).toBe("ok");
    const queued = await messaging.peek("work", 10);
    expect(queued.map((message) => message.attributes[CLAIM_CHECK_ATTRIBUTE])).toEqual(["1", undefined]);
    const pointer = JSON.parse(new TextDecoder().decode(queued[0]?.body));
    expect(pointer).toMatchObject({ provider: "local", bucket: "claims", size: big.length + 10 });
    expect(pointer.key).toMatch(/^sluice-claim-checks\/[0-9a-f]{64}$/);
    expect(await store.head("claims", pointer.key)).toMatchObject({ size: big.length + 10 });

    const bodies: unknown[] = [];
    const consume = defineFunction({
      name: "consume",
      trigger: triggers.messages({ source: "queue", name: "work" }),
      handler: (event: MessagesEvent) => {
        for (const message of event.messages) bodies.push({ value: message.json(), marked: CLAIM_CHECK_ATTRIBUTE in message.attributes });
      },
    });
    const watch = toLocal(consume, options).watch({ intervalMs: 5 });
    await watch.idle();
    await watch.close();
    expect(bodies).toEqual([
      { value: { big }, marked: false },
      { value: { small: true }, marked: false },
    ]);
  });

  it("fails the event when a message is too large and there is no claim-check bucket", async () => {
    const { messaging, options } = setup({ maxMessageBytes: 100 });
    const produce = defineFunction({
      name: "produce",
      trigger: triggers.invoke(),
      destination: destinations.stream({ name: "readings" }),
      handler: () => "x".repeat(500),
    });
    const outcome = await toLocal(produce, options).invoke({ kind: "invoke", payload: null });
    expect(outcome.status).toBe("failed");
    expect(outcome.status === "failed" && String(outcome.error)).toMatch(
      /is 51\d bytes, over its limit of 100; give the destination a claimCheck bucket/,
    );
    expect(await messaging.peek("readings", 10)).toEqual([]);
  });

  it("fails a message whose claim check points at nothing, alone, and routes it after its retries", async () => {
    const { messaging, options } = setup();
    await messaging.send({ kind: "queue", name: "work" }, [
      {
        body: new TextEncoder().encode(JSON.stringify({ bucket: "claims", key: "missing" })),
        attributes: { [CLAIM_CHECK_ATTRIBUTE]: "1" },
      },
      { body: new TextEncoder().encode('"fine"'), attributes: {} },
    ]);
    const handled: unknown[] = [];
    const consume = defineFunction({
      name: "consume",
      trigger: triggers.messages({ source: "queue", name: "work" }),
      maxAttempts: 2,
      onFailure: destinations.queue({ name: "work-failures" }),
      handler: (event: MessagesEvent) => {
        for (const message of event.messages) handled.push(message.json());
      },
    });
    const watch = toLocal(consume, options).watch({ intervalMs: 5, retries: 3 });
    await watch.idle();
    await watch.close();
    expect(handled).toEqual(["fine"]);
    expect(await messaging.peek("work", 10)).toEqual([]);
    const failures = await messaging.peek("work-failures", 10);
    expect(failures).toHaveLength(1);
    const failure = JSON.parse(new TextDecoder().decode(failures[0]?.body));
    expect(failure).toMatchObject({ function: "consume", event: { kind: "messages", name: "work" }, error: { code: "OBJECT_NOT_FOUND" } });
  });

  it("skips a stray file in a queue directory, says so once, and runs the messages around it", async () => {
    const { messaging, options } = setup();
    await messaging.send({ kind: "queue", name: "work" }, [{ body: new TextEncoder().encode('"first"'), attributes: {} }]);
    await writeFile(join(messaging.directory("work"), "0-notes.json"), "{ not json");
    await messaging.send({ kind: "queue", name: "work" }, [{ body: new TextEncoder().encode('"second"'), attributes: {} }]);
    const handled: unknown[] = [];
    const lines: string[] = [];
    const consume = defineFunction({
      name: "consume",
      trigger: triggers.messages({ source: "queue", name: "work" }),
      handler: (event: MessagesEvent) => {
        for (const message of event.messages) handled.push(message.json());
      },
    });
    const log = createLogger({ level: "error", write: (line) => lines.push(line) });
    const watch = toLocal(consume, { ...options, log }).watch({ intervalMs: 5 });
    await watch.idle();
    await watch.close();
    expect(handled).toEqual(["first", "second"]);
    expect(lines.filter((line) => line.includes("not a message"))).toHaveLength(1);
    expect(await readdir(messaging.directory("work"))).toContain("0-notes.json");
  });

  it("stops at the hop limit instead of sending again", async () => {
    const { messaging, options } = setup();
    await messaging.send({ kind: "queue", name: "work" }, [{ body: new TextEncoder().encode("1"), attributes: { [HOPS_ATTRIBUTE]: "3" } }]);
    const relay = defineFunction({
      name: "relay",
      trigger: triggers.messages({ source: "queue", name: "work" }),
      destination: destinations.queue({ name: "next" }),
      onFailure: destinations.queue({ name: "relay-failures" }),
      maxHops: 3,
      handler: () => "onward",
    });
    const watch = toLocal(relay, options).watch({ intervalMs: 5 });
    await watch.idle();
    await watch.close();
    expect(await messaging.peek("next", 10)).toEqual([]);
    const [failure] = await messaging.peek("relay-failures", 10);
    expect(JSON.parse(new TextDecoder().decode(failure?.body)).error).toMatchObject({ code: "HOP_LIMIT" });
    expect(failure?.attributes[HOPS_ATTRIBUTE]).toBe("1");
  });

  it("sends the next hop's count from a messages input", async () => {
    const { messaging, options } = setup();
    await messaging.send({ kind: "queue", name: "work" }, [{ body: new TextEncoder().encode("1"), attributes: { [HOPS_ATTRIBUTE]: "2" } }]);
    const relay = defineFunction({
      name: "relay",
      trigger: triggers.messages({ source: "queue", name: "work" }),
      destination: destinations.queue({ name: "next" }),
      handler: () => "onward",
    });
    const watch = toLocal(relay, options).watch({ intervalMs: 5 });
    await watch.idle();
    await watch.close();
    const [sent] = await messaging.peek("next", 10);
    expect(sent?.attributes[HOPS_ATTRIBUTE]).toBe("3");
  });

  it("fails with a named error, sending nothing, when a key, an attribute or a message is not what a message can carry", async () => {
    const { messaging, options } = setup();
    const cases = [
      {
        destination: destinations.stream({ name: "readings", key: () => 42 as unknown as string }),
        why: /key of message 0 must be a string or undefined, got number/,
      },
      {
        destination: destinations.stream({ name: "readings", attributes: () => ({ unit: 1 }) as unknown as Record<string, string> }),
        why: /attribute "unit" of message 0 must be a string, got number/,
      },
      {
        destination: destinations.stream({ name: "readings", attributes: () => "unit" as never }),
        why: /attributes of message 0 must be an object/,
      },
      {
        destination: destinations.stream({ name: "readings", messages: () => ["fine", { big: 1n }] }),
        why: /message 1 cannot be serialized as JSON/,
      },
    ];
    for (const { destination, why } of cases) {
      const produce = defineFunction({ name: "produce", trigger: triggers.invoke(), destination, handler: () => ["a", "b"] });
      const outcome = await toLocal(produce, options).invoke({ kind: "invoke", payload: null });
      expect(outcome.status).toBe("failed");
      const error = outcome.status === "failed" ? (outcome.error as { code?: string; message?: string }) : undefined;
      expect(error?.code).toBe("BAD_MESSAGE");
      expect(error?.message).toMatch(/^destination stream readings: /);
      expect(error?.message).toMatch(why);
    }
    expect(await messaging.peek("readings", 10)).toEqual([]);
  });

  it("says why when the messaging refuses what is sent", async () => {
    const { options } = setup();
    const refusing = Object.assign(new LocalMessaging({ root: join(dir.root, "refusing") }), {
      send: async (_target: unknown, messages: unknown[]) => ({
        failed: messages.map((_message, index) => ({ index, reason: "ServiceUnavailable", retryable: true })),
      }),
    });
    const produce = defineFunction({
      name: "produce",
      trigger: triggers.invoke(),
      destination: destinations.stream({ name: "readings" }),
      handler: () => ["a", "b"],
    });
    const outcome = await toLocal(produce, { ...options, messaging: refusing }).invoke({ kind: "invoke", payload: null });
    expect(outcome.status).toBe("failed");
    const error = outcome.status === "failed" ? (outcome.error as MessageDeliveryError) : undefined;
    expect(error).toBeInstanceOf(MessageDeliveryError);
    // Which messages are still refused, where they were going and why: both of them, by index.
    expect(error?.target).toStrictEqual({ kind: "stream", name: "readings" });
    expect(error?.failures).toStrictEqual([
      { index: 0, reason: "ServiceUnavailable" },
      { index: 1, reason: "ServiceUnavailable" },
    ]);
    expect(error?.message).toContain("2 of 2 messages to stream readings were not accepted");
  }, 20_000);
});
