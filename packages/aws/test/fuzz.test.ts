import { EventTranslationError, SluiceError, defineFunction, silentLogger, triggers, type SluiceFunction } from "@sluice/core";
import { mutatedEvents } from "@sluice/core/testing";
import { describe, expect, inject, it } from "vitest";
import {
  S3ObjectStore,
  fromAlb,
  fromApiGatewayV1,
  fromApiGatewayV2,
  fromFirehose,
  fromKinesis,
  fromS3EventBridge,
  fromS3Notification,
  fromScheduledEvent,
  fromSchedulerInput,
  fromSnsMessages,
  fromSnsObjectEvents,
  fromSqsMessages,
  fromSqsObjectEvents,
  toLambda,
} from "../src/index.js";
import { fastS3Record, s3RecordThroughReaders } from "../src/triggers/s3.js";
import { lambdaContext, providerFixtures } from "./helpers.js";
import { s3rverClient } from "../../../tools/emulators/src/index.js";

const seeds = providerFixtures("aws").map((item) => item.event);
const translators: Array<(event: unknown) => unknown> = [
  fromS3Notification,
  fromS3EventBridge,
  fromSqsMessages,
  fromSqsObjectEvents,
  fromSnsMessages,
  fromSnsObjectEvents,
  fromKinesis,
  fromFirehose,
  fromApiGatewayV1,
  (event) => fromApiGatewayV2(event),
  (event) => fromAlb(event, "2026-11-23T14:00:00.000Z"),
  fromScheduledEvent,
  fromSchedulerInput,
];

describe("fuzzing the AWS translators and adapter", () => {
  const count = 10_000;

  it(`lets only EventTranslationError out of every translator, for ${count} mutated AWS events`, () => {
    let accepted = 0;
    let rejected = 0;
    for (const event of mutatedEvents(seeds, count, 20261123)) {
      for (const translate of translators) {
        try {
          translate(event);
          accepted++;
        } catch (error) {
          if (!(error instanceof EventTranslationError)) {
            throw new Error(`untyped error for ${JSON.stringify(event)?.slice(0, 300)}`, { cause: error });
          }
          rejected++;
        }
      }
    }
    expect(accepted).toBeGreaterThan(count / 20);
    expect(rejected).toBeGreaterThan(count / 20);
  });

  it("runs mutated events through toLambda for every trigger kind with only Sluice's typed errors escaping", async () => {
    const store = new S3ObjectStore({ client: s3rverClient(inject("s3rverPort")) });
    const fns: SluiceFunction[] = [
      defineFunction({ name: "f-object", trigger: triggers.objectCreated({ bucket: "sensor-raw" }), handler: async () => undefined }),
      defineFunction({ name: "f-http", trigger: triggers.http(), handler: async (event) => event.text() }),
      defineFunction({ name: "f-schedule", trigger: triggers.schedule({ cron: "0 * * * *" }), handler: async () => undefined }),
      defineFunction({
        name: "f-messages",
        trigger: triggers.messages({ source: "queue", name: "q" }),
        handler: (event) => event.each((message) => message.text()),
      }),
    ];
    const handlers = fns.map((fn) => toLambda(fn, { store, log: silentLogger }));
    let answered = 0;
    for (const event of mutatedEvents(seeds, 1_500, 7)) {
      for (const handler of handlers) {
        try {
          await handler(event, lambdaContext());
          answered++;
        } catch (error) {
          if (!(error instanceof SluiceError))
            throw new Error(`untyped error for ${JSON.stringify(event)?.slice(0, 300)}`, { cause: error });
        }
      }
    }
    expect(answered).toBeGreaterThan(0);
  });
});

describe("the S3 record fast path", () => {
  // fastS3Record reads plain properties and leaves anything unusual to the FieldReader path. Whenever it
  // answers, the answer must be the one the FieldReader path gives: same event, same ignored reason.
  const records = (events: Iterable<unknown>) =>
    [...events].flatMap((event) =>
      typeof event === "object" && event !== null && Array.isArray((event as { Records?: unknown }).Records)
        ? ((event as { Records: unknown[] }).Records as unknown[])
        : [],
    );

  it("translates every fixture record itself, as the FieldReader path does", () => {
    const fixtureRecords = records(seeds).filter((record) => (record as { eventSource?: unknown }).eventSource === "aws:s3");
    expect(fixtureRecords.length).toBeGreaterThanOrEqual(8);
    for (const record of fixtureRecords) {
      const fast = fastS3Record(record);
      expect(fast).toBeDefined();
      expect(fast).toStrictEqual(s3RecordThroughReaders(record));
      // Variants the fixtures do not show: a quoted ETag, a numeric-string size, placeholders.
      const r = record as { s3: { object: Record<string, unknown> } };
      for (const object of [
        { ...r.s3.object, eTag: '"9b2cf535f27731c974343645a3985328"' },
        { ...r.s3.object, size: "1024" },
        { ...r.s3.object, versionId: "", sequencer: null },
      ]) {
        const variant = { ...r, s3: { ...r.s3, object } };
        expect(fastS3Record(variant) ?? s3RecordThroughReaders(variant)).toStrictEqual(s3RecordThroughReaders(variant));
      }
    }
  });

  it("agrees with the FieldReader path on 10,000 mutated records, or leaves them to it", () => {
    let answered = 0;
    let leftToReaders = 0;
    for (const record of records(mutatedEvents(seeds, 10_000, 42))) {
      const fast = fastS3Record(record);
      if (fast === undefined) {
        leftToReaders++;
        continue;
      }
      answered++;
      expect(fast).toStrictEqual(s3RecordThroughReaders(record));
    }
    expect(answered).toBeGreaterThan(100);
    expect(leftToReaders).toBeGreaterThan(100);
  });
});
