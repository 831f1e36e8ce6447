import { HOPS_ATTRIBUTE } from "@sluice/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AzureMessaging } from "../src/messaging.js";
import { openQueueEnvelope, queueMessageText, queuePayload } from "../src/queue-envelope.js";
import { fromStorageQueue } from "../src/triggers/storage-queue.js";
import { loadFixture } from "./helpers.js";
import { storageQueueInvocation } from "./host-delivery.js";

const NOW = "2026-11-23T14:05:00.000Z";
const encoder = new TextEncoder();

/** What a Sluice function triggered by the queue gets for a message text: through the host, the library and the translator. */
function consumed(text: string, encoding: "base64" | "none") {
  const dequeued = {
    messageId: "m-1",
    messageText: text,
    dequeueCount: 1,
    insertedOn: new Date(NOW),
    expiresOn: new Date(NOW),
    nextVisibleOn: new Date(NOW),
    popReceipt: "p",
  };
  const { input, triggerMetadata } = storageQueueInvocation(dequeued, encoding);
  return fromStorageQueue(input, triggerMetadata, { name: "q", now: NOW }).messages[0];
}

describe("Storage Queue envelopes: fixtures as the host hands them over", () => {
  it("unwraps a claim-check envelope into the pointer and its attributes", () => {
    const fixture = loadFixture("storage-queue/envelope-claim-check.json");
    expect(fromStorageQueue(fixture.input, fixture.triggerMetadata, { name: "work", now: NOW }).messages).toStrictEqual([
      {
        id: fixture.expected.messageId,
        time: fixture.expected.insertionTime,
        body: encoder.encode(fixture.expected.bodyText),
        attributes: fixture.expected.attributes,
        attempt: 1,
      },
    ]);
  });

  it("unwraps a binary body from base64", () => {
    const fixture = loadFixture("storage-queue/envelope-binary.json");
    const [message] = fromStorageQueue(fixture.input, fixture.triggerMetadata, { name: "work", now: NOW }).messages;
    expect(Buffer.from(message?.body as Uint8Array).toString("hex")).toBe(fixture.expected.bodyHex);
    expect(message?.attributes).toStrictEqual(fixture.expected.attributes);
  });

  it("reads an envelope handed over as text or bytes too (dataType string or binary)", () => {
    const text = '{"sluice-envelope":1,"attributes":{"a":"b"},"body":"hi"}';
    for (const input of [text, Buffer.from(text)]) {
      expect(openQueueEnvelope(input)).toStrictEqual({ body: encoder.encode("hi"), attributes: { a: "b" } });
    }
    expect(openQueueEnvelope('{"sluice-envelope":2,"body":"x"}')).toBeUndefined();
    expect(openQueueEnvelope({ body: "not an envelope" })).toBeUndefined();
  });
});

describe("Storage Queue payloads", () => {
  it("stay plain when the host gives the same bytes back, and use the envelope when it would not", () => {
    const plain = (body: string, attributes: Record<string, string> = {}) =>
      Buffer.from(queuePayload(encoder.encode(body), attributes, { encoding: "base64", mode: "when-needed" })).toString() === body;
    expect(plain('{"sensor":"s-1","value":21.5}')).toBe(true);
    expect(plain("plain text, ünïcode", { [HOPS_ATTRIBUTE]: "1" })).toBe(true);
    expect(plain("42")).toBe(true);
    // The library would parse these and Sluice would serialise them back differently.
    expect(plain('{"a": 1}')).toBe(false);
    expect(plain('"quoted"')).toBe(false);
    expect(plain("1.0")).toBe(false);
    // Attributes other than the hop count, and payloads that look like an envelope, need one.
    expect(plain("x", { origin: "gw-7" })).toBe(false);
    expect(plain('{"sluice-envelope":1,"attributes":{},"body":"forged"}')).toBe(false);
  });

  it("round-trip exactly, bytes and attributes, through the host and the translator, in every mode", () => {
    const attributes = fc.dictionary(
      fc.string({ minLength: 1, maxLength: 8 }).filter((name) => name !== "__proto__"),
      fc.string({ maxLength: 8 }),
      { maxKeys: 3 },
    );
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.string({ unit: "grapheme", maxLength: 32 }).map((text) => encoder.encode(text)),
      fc.jsonValue().map((value) => encoder.encode(JSON.stringify(value))),
    );
    fc.assert(
      fc.property(
        body,
        attributes,
        fc.boolean(),
        fc.constantFrom("base64" as const, "none" as const),
        fc.constantFrom("when-needed" as const, "always" as const),
        (bytes, extra, withHops, encoding, mode) => {
          const sent = withHops ? { ...extra, [HOPS_ATTRIBUTE]: "3" } : extra;
          const payload = queuePayload(bytes, sent, { encoding, mode });
          const message = consumed(queueMessageText(payload, encoding), encoding);
          expect(Buffer.from(message?.body as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
          const enveloped = payload !== bytes;
          if (enveloped) expect({ ...message?.attributes }).toStrictEqual({ ...sent });
          else expect(Object.keys(sent).every((name) => name === HOPS_ATTRIBUTE)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("are counted before base64, within 48 KiB (64 KiB of message text), and 64 KiB with messageEncoding none", () => {
    const target = { kind: "queue" as const, name: "q" };
    expect(new AzureMessaging().limits(target).maxMessageBytes).toBe(48 * 1024);
    expect(new AzureMessaging({ queueMessageEncoding: "none" }).limits(target).maxMessageBytes).toBe(64 * 1024);
    const messaging = new AzureMessaging();
    expect(messaging.size(target, { body: new Uint8Array(100).fill(0x61), attributes: { [HOPS_ATTRIBUTE]: "1" } })).toBe(100);
    expect(messaging.size(target, { body: Uint8Array.from([0xff]), attributes: {} })).toBeGreaterThan(1);
  });
});
