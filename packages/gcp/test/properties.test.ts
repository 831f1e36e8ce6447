import { EventTranslationError } from "@sluice/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromHttpRequest } from "../src/triggers/http.js";
import { fromPubsubCloudEvent } from "../src/triggers/pubsub.js";
import { fromStorageCloudEvent } from "../src/triggers/storage-cloudevent.js";
import { fixedEnv, fixture } from "./helpers.js";

const published = fixture<Record<string, any>>("pubsub-cloudevent", "message-published");
const finalized = fixture<Record<string, any>>("storage-cloudevent", "finalized");
const withMessage = (message: Record<string, unknown>) => ({
  ...published,
  data: { ...published.data, message: { ...published.data.message, ...message } },
});
const withObject = (fields: Record<string, unknown>, ce: Record<string, unknown> = {}) => ({
  ...finalized,
  ...ce,
  data: { ...finalized.data, ...fields },
});

describe("decoding and splitting, for any input", () => {
  it("a message body is exactly the bytes that were base64-encoded", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        const event = fromPubsubCloudEvent(withMessage({ data: Buffer.from(bytes).toString("base64") }), fixedEnv());
        expect(event.messages[0]?.body).toStrictEqual(new Uint8Array(bytes));
      }),
    );
  });

  it("data that is not canonical base64 is an EventTranslationError, never silently altered bytes", () => {
    const notBase64 = fc
      .tuple(fc.base64String({ minLength: 4 }), fc.constantFrom("!", "-", "_", " ", "\n", "é", "*"), fc.nat())
      .map(([valid, bad, at]) => {
        const index = at % (valid.length + 1);
        return valid.slice(0, index) + bad + valid.slice(index);
      });
    fc.assert(
      fc.property(notBase64, (data) => {
        expect(() => fromPubsubCloudEvent(withMessage({ data }), fixedEnv())).toThrow(EventTranslationError);
      }),
    );
  });

  it("a message id of any length stays the same string, however far past 2^53", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[1-9]\d{0,29}$/), (id) => {
        const event = fromPubsubCloudEvent(withMessage({ messageId: id, message_id: id }), fixedEnv());
        expect(event.messages[0]?.id).toBe(id);
      }),
    );
  });

  it("an object name of any Unicode, with slashes, is the key unchanged", () => {
    const name = fc
      .array(fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 5 })
      .map((parts) => parts.join("/"));
    fc.assert(
      fc.property(name, (objectName) => {
        const event = fromStorageCloudEvent(withObject({ name: objectName }), fixedEnv());
        expect(event.kind === "object.created" && event.key).toBe(objectName);
      }),
    );
  });

  it("size and generation mean the same as numbers and as decimal strings", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.boolean(),
        (size, generation, asString) => {
          const event = fromStorageCloudEvent(
            withObject({ size: asString ? String(size) : size, generation: asString ? String(generation) : generation }),
            fixedEnv(),
          );
          expect(event).toMatchObject({ size, version: String(generation) });
        },
      ),
    );
  });

  it("a time with microseconds or an offset becomes the same instant in UTC, rounded down to milliseconds", () => {
    const instants = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) });
    fc.assert(
      fc.property(
        instants,
        fc.integer({ min: 0, max: 999 }),
        fc.integer({ min: -14 * 60, max: 14 * 60 }),
        (millis, micros, offsetMinutes) => {
          const expected = new Date(millis).toISOString();
          // The same instant written in a zone `offsetMinutes` east of UTC, with three more fractional digits.
          const local = new Date(millis + offsetMinutes * 60_000).toISOString().slice(0, 23);
          const sign = offsetMinutes < 0 ? "-" : "+";
          const zone = `${sign}${String(Math.floor(Math.abs(offsetMinutes) / 60)).padStart(2, "0")}:${String(Math.abs(offsetMinutes) % 60).padStart(2, "0")}`;
          const time = `${local}${String(micros).padStart(3, "0")}${zone}`;
          expect(fromStorageCloudEvent(withObject({}, { time }), fixedEnv())).toMatchObject({ time: expected });
        },
      ),
    );
  });

  it("every repeated query parameter is kept, in order", () => {
    const pairs = fc.array(fc.tuple(fc.constantFrom("a", "b", "tag", "x y", "é"), fc.string({ maxLength: 8 })), { maxLength: 12 });
    fc.assert(
      fc.property(pairs, (list) => {
        const search = new URLSearchParams(list).toString();
        const { query } = fromHttpRequest({ method: "GET", path: "/", search, headers: {} }, fixedEnv());
        for (const name of new Set(list.map(([key]) => key))) {
          const values = list.filter(([key]) => key === name).map(([, value]) => value);
          expect(query[name]).toEqual(values.length === 1 ? values[0] : values);
        }
        expect(Object.keys(query).sort()).toEqual([...new Set(list.map(([key]) => key))].sort());
      }),
    );
  });
});
