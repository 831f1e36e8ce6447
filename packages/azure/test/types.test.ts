import type {
  EventGridHandler,
  EventHubHandler,
  HttpHandler,
  ServiceBusQueueHandler,
  StorageBlobHandler,
  StorageQueueHandler,
  TimerHandler,
} from "@azure/functions";
import { defineFunction, type SluiceFunction, triggers } from "@sluice/core";
import { describe, expectTypeOf, it } from "vitest";
import { type AzureHandler, toAzureFunction as wrap } from "../src/index.js";

const toAzureFunction: typeof wrap = (fn, options) => wrap(fn, { register: false, ...options });

const noop = async () => undefined;
const objectFn = defineFunction({ name: "o", trigger: triggers.objectCreated({ bucket: "b" }), handler: noop });
const deletedFn = defineFunction({ name: "d", trigger: triggers.objectDeleted({ bucket: "b" }), handler: noop });
const httpFn = defineFunction({ name: "h", trigger: triggers.http(), handler: async () => ({ ok: true }) });
const invokeFn = defineFunction({ name: "i", trigger: triggers.invoke<{ day: string }>(), handler: noop });
const timerFn = defineFunction({ name: "t", trigger: triggers.schedule({ cron: "0 * * * *" }), handler: noop });
const queueFn = defineFunction({ name: "q", trigger: triggers.messages({ source: "queue", name: "q" }), handler: noop });

// Checked by the type checker (expectTypeOf does nothing at run time): each handler fits the registration
// its trigger gets, so that `register: false` plus a registration by hand type-checks.
describe("handler types follow the trigger", () => {
  it("fits the matching app.* handler type", () => {
    expectTypeOf(toAzureFunction(objectFn)).toExtend<EventGridHandler>();
    expectTypeOf(toAzureFunction(objectFn)).toExtend<StorageBlobHandler>();
    expectTypeOf(toAzureFunction(objectFn)).toExtend<StorageQueueHandler>();
    expectTypeOf(toAzureFunction(deletedFn)).toExtend<EventGridHandler>();
    expectTypeOf(toAzureFunction(httpFn)).toExtend<HttpHandler>();
    expectTypeOf(toAzureFunction(invokeFn)).toExtend<HttpHandler>();
    expectTypeOf(toAzureFunction(timerFn)).toExtend<TimerHandler>();
    expectTypeOf(toAzureFunction(queueFn)).toExtend<StorageQueueHandler>();
    expectTypeOf(toAzureFunction(queueFn)).toExtend<ServiceBusQueueHandler>();
    expectTypeOf(toAzureFunction(queueFn)).toExtend<EventHubHandler>();
    expectTypeOf(toAzureFunction(httpFn)).not.toExtend<TimerHandler>();
    expectTypeOf(toAzureFunction(objectFn as SluiceFunction)).toEqualTypeOf<AzureHandler>();
  });
});
