import { describe, expect, expectTypeOf, it } from "vitest";
import {
  ConfigurationError,
  defineFunction,
  destinations,
  triggers,
  type DestinationArgs,
  type HttpEvent,
  type InvokeEvent,
  type MessagesEvent,
  type ObjectCreatedEvent,
  type ObjectDeletedEvent,
  type ObjectEventData,
  type ScheduleEvent,
} from "../src/index.js";

describe("triggers decide the handler's event type at compile time", () => {
  it("types each trigger's event", () => {
    defineFunction({
      name: "created",
      trigger: triggers.objectCreated({ bucket: "raw" }),
      handler(event) {
        expectTypeOf(event).toEqualTypeOf<ObjectCreatedEvent>();
        expectTypeOf(event.lines).toBeFunction();
      },
    });
    defineFunction({
      name: "deleted",
      trigger: triggers.objectDeleted({ bucket: "raw" }),
      handler(event) {
        expectTypeOf(event).toEqualTypeOf<ObjectDeletedEvent>();
        // A deleted object has no body to read.
        expectTypeOf(event).not.toHaveProperty("lines");
      },
    });
    defineFunction({ name: "http", trigger: triggers.http(), handler: (event) => expectTypeOf(event).toEqualTypeOf<HttpEvent>() });
    defineFunction({
      name: "cron",
      trigger: triggers.schedule({ cron: "0 * * * *" }),
      handler: (event) => expectTypeOf(event).toEqualTypeOf<ScheduleEvent>(),
    });
    defineFunction({
      name: "queue",
      trigger: triggers.messages({ source: "queue", name: "q" }),
      handler: (event) => expectTypeOf(event).toEqualTypeOf<MessagesEvent>(),
    });
    defineFunction({
      name: "direct",
      trigger: triggers.invoke<{ day: string }>(),
      handler(event) {
        expectTypeOf(event).toEqualTypeOf<InvokeEvent<{ day: string }>>();
        expectTypeOf(event.payload.day).toBeString();
      },
    });
  });

  it("gives a destination's key function the event's fields, exactly when the arguments are spelled out", () => {
    defineFunction({
      name: "typed-destination",
      trigger: triggers.objectCreated({ bucket: "raw" }),
      destination: destinations.objectStore<DestinationArgs<ObjectEventData, { lines: number }>>({
        bucket: "out",
        key: ({ event, result }) => {
          expectTypeOf(event.key).toBeString();
          expectTypeOf(result).toEqualTypeOf<{ lines: number }>();
          return `${event.key}.json`;
        },
      }),
      onFailure: destinations.objectStore({
        bucket: "failed",
        key: ({ event }) => {
          expectTypeOf(event.key).toEqualTypeOf<string | undefined>();
          return `${event.key}.ndjson`;
        },
      }),
      async handler() {
        return { lines: 1 };
      },
    });
  });
});

describe("definitions are checked when they are made", () => {
  const invalid: Array<[string, () => unknown]> = [
    ["an object trigger without a bucket", () => triggers.objectCreated({ bucket: "" })],
    ["a prefix that is not a string", () => triggers.objectCreated({ bucket: "b", prefix: 1 as unknown as string })],
    ["an http path without a leading slash", () => triggers.http({ path: "items" })],
    ["an empty method list", () => triggers.http({ methods: [] })],
    ["a six-field cron", () => triggers.schedule({ cron: "0 0 * * * *" })],
    ["an unknown time zone", () => triggers.schedule({ cron: "0 * * * *", timeZone: "Mars/Olympus" })],
    ["an unknown message source", () => triggers.messages({ source: "mail" as "queue", name: "q" })],
    ["a function name with a space", () => defineFunction({ name: "bad name", trigger: triggers.invoke(), handler() {} })],
    ["a handler that is not a function", () => defineFunction({ name: "x", trigger: triggers.invoke(), handler: 1 as never })],
    ["a trigger that is no trigger", () => defineFunction({ name: "x", trigger: { bucket: "b" } as never, handler() {} })],
    [
      "a destination that is no destination",
      () => defineFunction({ name: "x", trigger: triggers.invoke(), destination: {} as never, handler() {} }),
    ],
    ["maxAttempts of zero", () => defineFunction({ name: "x", trigger: triggers.invoke(), maxAttempts: 0, handler() {} })],
    ["a destination key that is not a function", () => destinations.objectStore({ bucket: "b", key: "k" as never })],
  ];
  for (const [name, make] of invalid) {
    it(`refuses ${name} with ConfigurationError`, () => {
      expect(make).toThrow(ConfigurationError);
    });
  }

  it("normalises what it accepts", () => {
    expect(triggers.http({ methods: ["get", "Post"] }).methods).toEqual(["GET", "POST"]);
    expect(triggers.schedule({ cron: " 0  *  * * 1-5 " }).cron).toBe("0 * * * 1-5");
    expect(triggers.objectCreated({ bucket: "b", prefix: "" })).toStrictEqual({ kind: "object.created", bucket: "b" });
  });
});
