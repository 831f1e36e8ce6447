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
