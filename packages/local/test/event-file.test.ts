import { EventTranslationError } from "@sluice/core";
import { describe, expect, it } from "vitest";
import { fromLocalEvent } from "../src/index.js";
import { fixture } from "./helpers.js";

const fixedNow = () => "2026-11-23T15:00:00.000Z";

describe("fromLocalEvent", () => {
  it("normalises an object event: time to milliseconds in UTC, etag without quotes", () => {
    expect(fromLocalEvent(fixture("event-file", "object-created"), fixedNow)).toStrictEqual({
      kind: "object.created",
      id: "9f0c2d7e-local-1",
      time: "2026-11-23T14:05:00.123Z",
      bucket: "sensor-raw",
      key: "readings/2026/11/23/14/sensor-stream-1-2026-11-23-14-05-00-3f1c9a2e-7b1d-4c55-9a0e-2b8f6d1e4a10",
      size: 1024,
      etag: "d41d8cd98f00b204e9800998ecf8427e",
      provider: "local",
    });
  });

  it("decodes message bodies given as text or base64 and applies time offsets", () => {
    const event = fromLocalEvent(fixture("event-file", "messages"), fixedNow);
    expect(event.kind).toBe("messages");
    if (event.kind !== "messages") return;
    expect(event.messages.map((message) => Array.from(message.body))).toEqual([
      Array.from(new TextEncoder().encode('{"sensor":"s-001"}')),
      [0, 255],
    ]);
    expect(event.messages.map((message) => message.time)).toEqual(["2026-11-23T13:05:00.000Z", fixedNow()]);
    expect(event.messages[0]?.attempt).toBe(1);
  });

  const malformed: Array<[string, unknown, string]> = [
    ["null", null, ""],
    ["an array", [], ""],
    ["a missing kind", { bucket: "b" }, "kind"],
    ["a missing bucket", { kind: "object.created", key: "k" }, "bucket"],
    ["a negative size", { kind: "object.created", bucket: "b", key: "k", size: -1 }, "size"],
    ["a message without a body", { kind: "messages", source: "queue", name: "q", messages: [{ id: "1" }] }, "messages[0].body"],
    [
      "an attribute that is a number",
      { kind: "messages", source: "queue", name: "q", messages: [{ body: "x", attributes: { a: 1 } }] },
      "messages[0].attributes.a",
    ],
    ["an http event with a numeric header", { kind: "http", method: "GET", headers: { a: 1 } }, "headers.a"],
  ];
  for (const [name, input, field] of malformed) {
    it(`rejects ${name} naming the field ${JSON.stringify(field)}`, () => {
      let caught: unknown;
      try {
        fromLocalEvent(input, fixedNow);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(EventTranslationError);
      expect(caught).toMatchObject({ provider: "local", source: "event-file", field });
    });
  }
});
