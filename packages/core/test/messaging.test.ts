import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ConfigurationError,
  MessageDeliveryError,
  defaultMessageSize,
  defineFunction,
  definePipeline,
  destinations,
  messageBody,
  planBatches,
  sendAll,
  triggers,
  type MessageLimits,
  type MessageSendFailure,
  type MessageSender,
  type MessageTarget,
  type OutgoingMessage,
} from "../src/index.js";

const target: MessageTarget = { kind: "stream", name: "readings" };
const text = (value: string): OutgoingMessage => ({ body: new TextEncoder().encode(value), attributes: {} });
const decode = (message: OutgoingMessage) => new TextDecoder().decode(message.body);

/**
 * A sender whose service refuses the messages a script names, attempt by attempt: the logic under test is
 * sendAll's own (batching and exact re-sending), so the service's answers are scripted here; each
 * provider's sender is tested against its real server with describeMessageSender.
 */
function scriptedSender(limits: MessageLimits, refuse: (body: string, attempt: number) => MessageSendFailure["retryable"] | undefined) {
  const calls: string[][] = [];
  const accepted: string[] = [];
  const attempts = new Map<string, number>();
  const sender: MessageSender = {
    provider: "local",
    limits: () => limits,
    async send(_target, messages) {
      calls.push(messages.map(decode));
      const failed: MessageSendFailure[] = [];
      messages.forEach((message, index) => {
        const body = decode(message);
        const attempt = (attempts.get(body) ?? 0) + 1;
        attempts.set(body, attempt);
        const verdict = refuse(body, attempt);
        if (verdict === undefined) accepted.push(body);
        else failed.push({ index, reason: `refused ${body}`, retryable: verdict });
      });
      return { failed };
    },
  };
  return { sender, calls, accepted };
}

const noSleep = { sleep: async () => {} };
const roomy: MessageLimits = { maxMessageBytes: 1000, maxBatchMessages: 500, maxBatchBytes: 100_000 };

describe("planBatches", () => {
  it("cuts at the message count and the byte limit, in order", () => {
    const messages = Array.from({ length: 7 }, (_unused, index) => text("x".repeat(index === 3 ? 40 : 10)));
    const batches = planBatches(messages, { maxMessageBytes: 50, maxBatchMessages: 3, maxBatchBytes: 50 }, defaultMessageSize);
    expect(batches).toEqual([
      [0, 1, 2],
      [3, 4],
      [5, 6],
    ]);
  });

  it("refuses a message over the limit instead of sending it to certain refusal", () => {
    expect(() =>
      planBatches([text("x".repeat(60))], { maxMessageBytes: 50, maxBatchMessages: 3, maxBatchBytes: 500 }, defaultMessageSize),
    ).toThrow(ConfigurationError);
  });

  it("keeps every batch within its limits and every message exactly once (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 200 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 50, max: 300 }),
        (sizes, maxBatchMessages, maxBatchBytes) => {
          const messages = sizes.map((size) => text("y".repeat(size)));
          const batches = planBatches(messages, { maxMessageBytes: 50, maxBatchMessages, maxBatchBytes }, defaultMessageSize);
          expect(batches.flat()).toEqual(messages.map((_message, index) => index));
          for (const batch of batches) {
            expect(batch.length).toBeLessThanOrEqual(maxBatchMessages);
            expect(batch.reduce((sum, index) => sum + defaultMessageSize(messages[index] as OutgoingMessage), 0)).toBeLessThanOrEqual(
              maxBatchBytes,
            );
          }
        },
      ),
    );
  });
});

describe("sendAll", () => {
  it("sends again exactly the refused messages, never the accepted ones", async () => {
    const { sender, calls, accepted } = scriptedSender(roomy, (body, attempt) =>
      ["b", "d"].includes(body) && attempt === 1 ? true : undefined,
    );
    await sendAll(sender, target, ["a", "b", "c", "d", "e"].map(text), noSleep);
    expect(calls).toEqual([
      ["a", "b", "c", "d", "e"],
      ["b", "d"],
    ]);
    expect(accepted.sort()).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("names the messages still refused after the last attempt", async () => {
    const { sender, calls } = scriptedSender(roomy, (body) => (body === "c" ? true : undefined));
    const error = await sendAll(sender, target, ["a", "b", "c"].map(text), { ...noSleep, attempts: 3 }).catch((caught) => caught);
    expect(error).toBeInstanceOf(MessageDeliveryError);
    expect(error.failures).toEqual([{ index: 2, reason: "refused c" }]);
    expect(error.message).toMatch(/1 of 3 messages to stream readings/);
    expect(calls).toHaveLength(3);
  });

  it("does not retry a refusal that cannot change", async () => {
    const { sender, calls } = scriptedSender(roomy, (body) => (body === "b" ? false : undefined));
    await expect(sendAll(sender, target, ["a", "b"].map(text), noSleep)).rejects.toBeInstanceOf(MessageDeliveryError);
    expect(calls).toHaveLength(1);
  });

  it("treats a send that throws as every message of that batch refused", async () => {
    let calls = 0;
    const sent: string[] = [];
    const sender: MessageSender = {
      provider: "aws",
      limits: () => ({ ...roomy, maxBatchMessages: 2 }),
      async send(_target, messages) {
        calls++;
        if (calls === 2) throw new Error("connection reset");
        sent.push(...messages.map(decode));
        return { failed: [] };
      },
    };
    await sendAll(sender, target, ["a", "b", "c", "d"].map(text), noSleep);
    expect(sent).toEqual(["a", "b", "c", "d"]);
  });

  it("does not retry a send that throws a ConfigurationError, and keeps it as the cause", async () => {
    let calls = 0;
    const misconfigured = new ConfigurationError("gcp Pub/Sub: projectId: no project for topic readings");
    const sender: MessageSender = {
      provider: "gcp",
      limits: () => roomy,
      async send() {
        calls++;
        throw misconfigured;
      },
    };
    const error = await sendAll(sender, target, [text("a"), text("b")], noSleep).catch((caught) => caught);
    expect(error).toBeInstanceOf(MessageDeliveryError);
    expect(error.cause).toBe(misconfigured);
    expect(error.failures.map((failure: { index: number }) => failure.index)).toEqual([0, 1]);
    expect(calls).toBe(1);
  });

  it("refuses limits that cannot cut batches, naming the provider and the limit", async () => {
    for (const bad of [Number.NaN, 0, "1000" as unknown as number]) {
      const { sender, calls } = scriptedSender({ ...roomy, maxBatchBytes: bad }, () => undefined);
      await expect(sendAll(sender, target, [text("a")], noSleep)).rejects.toThrow(
        /local messaging: limits.maxBatchBytes for stream readings must be a positive integer/,
      );
      expect(calls).toEqual([]);
    }
  });

  it("sends a message once however often a sender names it, and refuses an index it cannot match", async () => {
    let calls = 0;
    const sent: string[] = [];
    const doubled: MessageSender = {
      provider: "aws",
      limits: () => roomy,
      async send(_target, messages) {
        calls++;
        sent.push(...messages.map(decode));
        return { failed: calls === 1 ? [0, 0].map((index) => ({ index, reason: "twice", retryable: true })) : [] };
      },
    };
    await sendAll(doubled, target, ["a", "b"].map(text), noSleep);
    expect(sent).toEqual(["a", "b", "a"]);
    const wild: MessageSender = { ...doubled, send: async () => ({ failed: [{ index: 7, reason: "?", retryable: true }] }) };
    await expect(sendAll(wild, target, [text("a")], noSleep)).rejects.toThrow(/refusal of message 7 in a batch of 1/);
  });

  it("stops retrying when the deadline leaves no room for the back-off", async () => {
    const { sender, calls } = scriptedSender(roomy, () => true);
    await expect(sendAll(sender, target, [text("a")], { ...noSleep, remainingMs: () => 10, backoffMs: 100 })).rejects.toBeInstanceOf(
      MessageDeliveryError,
    );
    expect(calls).toHaveLength(1);
  });

  it("holds back the later messages of a key once one of them is refused, so that a later batch cannot overtake it", async () => {
    const keyed = (value: string, key: string): OutgoingMessage => ({ ...text(value), key });
    const { sender, calls, accepted } = scriptedSender({ ...roomy, maxBatchMessages: 2 }, (body, attempt) =>
      body === "a1" && attempt === 1 ? true : undefined,
    );
    await sendAll(sender, target, [keyed("a1", "a"), keyed("b1", "b"), keyed("a2", "a"), keyed("b2", "b")], noSleep);
    expect(calls).toEqual([["a1", "b1"], ["b2"], ["a1", "a2"]]);
    expect(accepted).toEqual(["b1", "b2", "a1", "a2"]);
  });

  it("names a held-back message and why when its key never clears", async () => {
    const keyed = (value: string): OutgoingMessage => ({ ...text(value), key: "k" });
    const { sender } = scriptedSender({ ...roomy, maxBatchMessages: 1 }, (body) => (body === "x" ? true : undefined));
    const error = await sendAll(sender, target, [keyed("x"), keyed("y")], { ...noSleep, attempts: 2 }).catch((caught) => caught);
    expect(error.failures).toEqual([
      { index: 0, reason: "refused x" },
      { index: 1, reason: 'held back: an earlier message with key "k" was refused' },
    ]);
  });

  it("keeps each key's messages in order for any refusal pattern, across batches (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 7 }),
        async (messages, maxBatchMessages) => {
          const keyOf = (body: string) => `k${messages[Number(body.slice(1))]?.[0]}`;
          // A service that orders by key refuses the rest of a key in the same request after refusing one.
          const accepted: string[] = [];
          const attempts = new Map<string, number>();
          const sender: MessageSender = {
            provider: "local",
            limits: () => ({ ...roomy, maxBatchMessages }),
            async send(_target, batch) {
              const refusedKeys = new Set<string>();
              const failed: MessageSendFailure[] = [];
              batch.forEach((message, index) => {
                const body = decode(message);
                const attempt = (attempts.get(body) ?? 0) + 1;
                attempts.set(body, attempt);
                if (refusedKeys.has(message.key as string) || attempt <= (messages[Number(body.slice(1))]?.[1] as number)) {
                  refusedKeys.add(message.key as string);
                  failed.push({ index, reason: "refused", retryable: true });
                } else accepted.push(body);
              });
              return { failed };
            },
          };
          const outgoing = messages.map((_message, index) => ({ ...text(`m${index}`), key: keyOf(`m${index}`) }));
          await sendAll(sender, target, outgoing, { ...noSleep, attempts: 12 }).catch(() => undefined);
          for (const key of ["k0", "k1", "k2"]) {
            const order = accepted.filter((body) => keyOf(body) === key).map((body) => Number(body.slice(1)));
            expect(order).toEqual([...order].sort((a, b) => a - b));
            // In order and without gaps: a key's accepted messages are a prefix of its messages.
            const all = outgoing.map((_message, index) => index).filter((index) => keyOf(`m${index}`) === key);
            expect(order).toEqual(all.slice(0, order.length));
          }
        },
      ),
    );
  });

  it("delivers every message exactly once for any refusal pattern that clears within the attempts (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 25 }),
        async (refusals, maxBatchMessages) => {
          const bodies = refusals.map((_count, index) => `m${index}`);
          const { sender, accepted } = scriptedSender({ ...roomy, maxBatchMessages }, (body, attempt) =>
            attempt <= (refusals[Number(body.slice(1))] as number) ? true : undefined,
          );
          await sendAll(sender, target, bodies.map(text), { ...noSleep, attempts: 4 });
          expect(accepted.sort()).toEqual([...bodies].sort());
        },
      ),
    );
  });
});

describe("destinations.stream and destinations.queue", () => {
  it("check their options", () => {
    expect(() => destinations.stream({ name: "" })).toThrow(ConfigurationError);
    expect(() => destinations.queue({ name: "q", key: "group" as never })).toThrow(/key must be a function/);
    expect(() => destinations.queue({ name: "q", claimCheck: { bucket: "" } })).toThrow(/claimCheck.bucket/);
    expect(destinations.stream({ name: "s", claimCheck: { bucket: "big" } }).claimCheck).toEqual({
      bucket: "big",
      prefix: "sluice-claim-checks/",
    });
  });

  it("are refused where they feed the function's own trigger", () => {
    expect(() =>
      defineFunction({
        name: "echo",
        trigger: triggers.messages({ source: "queue", name: "work" }),
        destination: destinations.queue({ name: "work" }),
        handler: () => "again",
      }),
    ).toThrow(/sends to queue work, which its own trigger reads/);
  });

  it("join pipeline stages by name, and a loop through them is refused", () => {
    const produce = defineFunction({
      name: "produce",
      trigger: triggers.invoke(),
      destination: destinations.stream({ name: "readings" }),
      handler: () => [1, 2],
    });
    const consume = defineFunction({
      name: "consume",
      trigger: triggers.messages({ source: "stream", name: "readings" }),
      destination: destinations.queue({ name: "alerts" }),
      handler: () => "alert",
    });
    const alert = defineFunction({
      name: "alert",
      trigger: triggers.messages({ source: "queue", name: "alerts" }),
      destination: destinations.stream({ name: "readings" }),
      handler: () => "reading",
    });
    expect(definePipeline([produce, consume]).stages).toHaveLength(2);
    expect(() => definePipeline([consume, produce])).toThrow(/consume does not feed produce: it sends to queue alerts/);
    expect(() => definePipeline([consume, alert])).toThrow(/pipeline loops/);
  });
});

describe("messageBody", () => {
  it("keeps bytes, encodes text as UTF-8 and anything else as compact JSON", () => {
    expect(messageBody(Uint8Array.of(1, 2))).toEqual(Uint8Array.of(1, 2));
    expect(new TextDecoder().decode(messageBody("ü"))).toBe("ü");
    expect(new TextDecoder().decode(messageBody({ a: [1] }))).toBe('{"a":[1]}');
    expect(() => messageBody(undefined)).toThrow(/cannot be made of undefined/);
  });
});
