import { CreateDeliveryStreamCommand } from "@aws-sdk/client-firehose";
import { CLAIM_CHECK_ATTRIBUTE, sendAll } from "@sluice/core";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsMessaging } from "../src/index.js";
import { fromSqsBody, sqsBody, unwrapClaimCheck, wrapClaimCheck } from "../src/messaging/encoding.js";
import { sqsEntry, sqsMessageSize } from "../src/messaging/sqs.js";
import { firehoseServer, unique } from "./messaging-servers.js";

const text = new TextEncoder();

describe("SQS bodies", () => {
  it("any bytes come back exactly, and what is sent holds only characters SQS accepts and is never empty", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }),
          fc.string({ unit: "binary", maxLength: 32 }).map((value) => text.encode(value)),
        ),
        (bytes) => {
          const body = sqsBody(bytes);
          expect(body.text.length).toBeGreaterThan(0);
          expect(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(body.text)).toBe(false);
          expect(fromSqsBody(body.text, body.base64 ? "base64" : undefined)).toEqual(new Uint8Array(bytes));
        },
      ),
    );
  });

  it("counts a message as the bytes of the entry SQS receives", () => {
    const attributes = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_-]{0,7}$/), fc.string({ minLength: 1, maxLength: 8 }), {
      maxKeys: 8,
    });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), attributes, (body, attrs) => {
        const message = { body, attributes: attrs };
        const entry = sqsEntry("0", message, false);
        if (entry instanceof Error) throw entry;
        let counted = Buffer.byteLength(entry.MessageBody);
        for (const [name, value] of Object.entries(entry.MessageAttributes ?? {})) {
          counted += Buffer.byteLength(name) + value.DataType.length + Buffer.byteLength(value.StringValue);
        }
        expect(sqsMessageSize(message)).toBe(counted);
      }),
    );
  });
});

describe("claim checks on services without attributes", () => {
  it("a wrapped pointer unwraps to the same pointer, with a trailing newline or not", () => {
    const pointer = fc.record({
      provider: fc.constant("aws"),
      bucket: fc.string({ minLength: 1 }),
      key: fc.string({ minLength: 1 }),
      size: fc.nat(),
    });
    fc.assert(
      fc.property(pointer, fc.boolean(), (value, newline) => {
        const wrapped = wrapClaimCheck(text.encode(JSON.stringify(value)));
        const data = newline ? Buffer.concat([wrapped, Buffer.from("\n")]) : wrapped;
        const unwrapped = unwrapClaimCheck(new Uint8Array(data));
        expect(unwrapped?.attributes).toEqual({ [CLAIM_CHECK_ATTRIBUTE]: "1" });
        expect(JSON.parse(new TextDecoder().decode(unwrapped?.body))).toEqual(value);
      }),
    );
  });

  it("leaves any other JSON value alone", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const json = JSON.stringify(value);
        fc.pre(!json.startsWith('{"sluice-claim-check":'));
        expect(unwrapClaimCheck(text.encode(json))).toBeUndefined();
      }),
    );
  });
});

describe("Firehose partial failures, through the real SDK on the protocol-level server", () => {
  let firehose: Awaited<ReturnType<typeof firehoseServer>>;
  beforeAll(async () => {
    firehose = await firehoseServer();
  });
  afterAll(async () => firehose?.server.stop());

  it("whatever records are refused and how often (within the attempts), each is written exactly once, in no call more than once", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1200 }),
        fc.array(fc.tuple(fc.nat(1199), fc.integer({ min: 1, max: 3 })), { maxLength: 40 }),
        async (count, refusals) => {
          const name = unique("property");
          await firehose.client.send(new CreateDeliveryStreamCommand({ DeliveryStreamName: name }));
          const refuseTimes = new Map(refusals.filter(([index]) => index < count));
          const seen = new Map<number, number>();
          firehose.server.refuse((record) => {
            const index = Number(new TextDecoder().decode(record.data));
            const attempt = (seen.get(index) ?? 0) + 1;
            seen.set(index, attempt);
            return attempt <= (refuseTimes.get(index) ?? 0) ? "ServiceUnavailableException" : undefined;
          });
          try {
            const messages = Array.from({ length: count }, (_unused, index) => ({ body: text.encode(String(index)), attributes: {} }));
            await sendAll(
              new AwsMessaging({ clients: { firehose: firehose.client }, firehoseNewline: false }),
              { kind: "stream", name },
              messages,
              {
                backoffMs: 0,
                sleep: async () => {},
              },
            );
          } finally {
            firehose.server.refuse(undefined);
          }
          const written = firehose.server.records(name).map((record) => Number(new TextDecoder().decode(record.data)));
          expect([...written].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_unused, index) => index));
          for (let index = 0; index < count; index++) expect(seen.get(index)).toBe((refuseTimes.get(index) ?? 0) + 1);
        },
      ),
      { numRuns: 15 },
    );
  });
});
