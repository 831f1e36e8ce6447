import { describe, expect, it } from "vitest";
import { defaultMessageSize, sendAll, type MessageSender, type MessageTarget, type OutgoingMessage } from "../messaging.js";

/** A message as a consumer of the stream or queue received it. */
export interface ReceivedMessage {
  body: Uint8Array;
  attributes?: Record<string, string>;
  key?: string;
}

/** What the message-sender suite needs: a sender, a fresh target on a real server, and a way to read it back. */
export interface MessageSuiteSubject {
  sender: MessageSender;
  /** A target no other test sends to. */
  target: MessageTarget;
  /** Everything received on the target so far, after waiting until at least `count` have arrived. */
  receive(count: number): Promise<ReceivedMessage[]>;
}

export interface MessageSuiteOptions {
  /** The service keeps message attributes (Firehose and Kinesis carry only the body). */
  attributes: boolean;
  /** The service keeps the partition, ordering or group key and the consumer can see it. */
  keys: boolean;
  /** How many messages the "more than one batch" test sends. Default 1,250 (over every service's batch limit). */
  manyMessages?: number;
}

const utf8 = new TextDecoder();

/**
 * The behaviour every provider's `MessageSender` must have, run against a real server (or a
 * protocol-level one where the service has no local server): bodies arrive byte for byte, batches are
 * cut within the service's limits, attributes and keys survive where the service carries them.
 *
 * @example
 * ```ts
 * describeMessageSender("SQS on a local SQS server", { attributes: true, keys: false }, async () => ({ sender, target, receive }));
 * ```
 */
export function describeMessageSender(
  name: string,
  options: MessageSuiteOptions,
  subject: () => Promise<MessageSuiteSubject> | MessageSuiteSubject,
): void {
  describe(`MessageSender contract: ${name}`, () => {
    it("delivers text, JSON and non-UTF-8 bytes exactly", async () => {
      const { sender, target, receive } = await subject();
      const bodies = [
        new TextEncoder().encode("plain text, ünïcode ✓"),
        new TextEncoder().encode(JSON.stringify({ sensor: "s-1", value: 21.5 })),
        Uint8Array.from([0, 1, 2, 0xfe, 0xff, 0x80, 10, 13]),
      ];
      await sendAll(
        sender,
        target,
        bodies.map((body) => ({ body, attributes: {} })),
      );
      const received = await receive(bodies.length);
      expect(received.map((message) => Buffer.from(message.body).toString("hex")).sort()).toEqual(
        bodies.map((body) => Buffer.from(body).toString("hex")).sort(),
      );
    });

    it("sends more messages than one batch holds, each exactly once", async () => {
      const { sender, target, receive } = await subject();
      const count = options.manyMessages ?? 1250;
      const limits = sender.limits(target);
      expect(count).toBeGreaterThan(limits.maxBatchMessages);
      const messages: OutgoingMessage[] = Array.from({ length: count }, (_unused, index) => ({
        body: new TextEncoder().encode(JSON.stringify({ index })),
        attributes: {},
      }));
      await sendAll(sender, target, messages);
      const received = await receive(count);
      const indexes = received.map((message) => (JSON.parse(utf8.decode(message.body)) as { index: number }).index).sort((a, b) => a - b);
      expect(indexes).toEqual(Array.from({ length: count }, (_unused, index) => index));
    });

    it("sends a message of the largest size the service takes", async () => {
      const { sender, target, receive } = await subject();
      const limits = sender.limits(target);
      // A one-byte probe, not an empty one: an empty body can be encoded differently (SQS sends it as base64
      // with an attribute), which would overstate the overhead and leave the largest message untested.
      const probe: OutgoingMessage = { body: Uint8Array.of(0x61), attributes: {} };
      const overhead = (sender.size ? sender.size(target, probe) : defaultMessageSize(probe)) - 1;
      const largest = Math.min(limits.maxMessageBytes, limits.maxBatchBytes);
      const body = new Uint8Array(largest - overhead).fill(0x61);
      const outgoing: OutgoingMessage = { body, attributes: {} };
      expect(sender.size ? sender.size(target, outgoing) : defaultMessageSize(outgoing)).toBe(largest);
      await sendAll(sender, target, [outgoing]);
      const [message] = await receive(1);
      expect(message?.body.byteLength).toBe(body.byteLength);
    });

    if (options.attributes) {
      it("keeps attributes", async () => {
        const { sender, target, receive } = await subject();
        await sendAll(sender, target, [
          { body: new TextEncoder().encode("with attributes"), attributes: { "sluice-hops": "2", origin: "suite" } },
        ]);
        const [message] = await receive(1);
        expect(message?.attributes).toMatchObject({ "sluice-hops": "2", origin: "suite" });
      });
    }

    if (options.keys) {
      it("keeps the key and the order of messages with the same key", async () => {
        const { sender, target, receive } = await subject();
        const messages = Array.from({ length: 20 }, (_unused, index) => ({
          body: new TextEncoder().encode(String(index)),
          attributes: {},
          key: index % 2 === 0 ? "even" : "odd",
        }));
        await sendAll(sender, target, messages);
        const received = await receive(messages.length);
        for (const key of ["even", "odd"]) {
          const order = received.filter((message) => message.key === key).map((message) => Number(utf8.decode(message.body)));
          expect(order).toEqual(messages.filter((message) => message.key === key).map((message) => Number(utf8.decode(message.body))));
        }
      });
    }
  });
}
