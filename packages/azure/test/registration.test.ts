import { app } from "@azure/functions";
import { ConfigurationError, defineFunction, silentLogger, triggers } from "@sluice/core";
import { afterEach, describe, expect, it, vi } from "vitest";
import { toAzureFunction } from "../src/index.js";
import { registrationFor, toAzureRoute } from "../src/registration.js";

const noop = async () => undefined;
const objectFn = defineFunction({
  name: "on-blob",
  trigger: triggers.objectCreated({ bucket: "sensor-raw", prefix: "readings/" }),
  handler: noop,
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("registration", () => {
  it("registers object functions with app.eventGrid by default, and hands the real app the returned handler", () => {
    const eventGrid = vi.spyOn(app, "eventGrid");
    const handler = toAzureFunction(objectFn, { log: silentLogger });
    expect(eventGrid).toHaveBeenCalledTimes(1);
    expect(eventGrid).toHaveBeenCalledWith("on-blob", { handler });
  });

  it("registers the blob trigger with source EventGrid by default, polling on request", () => {
    expect(registrationFor(objectFn, { objectEvents: "storageBlob" })).toStrictEqual({
      method: "storageBlob",
      name: "on-blob",
      options: { path: "sensor-raw/readings/{name}", connection: "AzureWebJobsStorage", source: "EventGrid" },
    });
    expect(registrationFor(objectFn, { objectEvents: "storageBlob", blobSource: "LogsAndContainerScan", connection: "RAW" })).toMatchObject(
      {
        options: { source: "LogsAndContainerScan", connection: "RAW" },
      },
    );
    const storageBlob = vi.spyOn(app, "storageBlob");
    toAzureFunction(objectFn, { objectEvents: "storageBlob", log: silentLogger });
    expect(storageBlob.mock.calls[0]?.[1]).toMatchObject({ path: "sensor-raw/readings/{name}", source: "EventGrid" });
  });

  it("refuses the blob trigger for deletions, which it never sees", () => {
    const onDelete = defineFunction({ name: "on-delete", trigger: triggers.objectDeleted({ bucket: "b" }), handler: noop });
    expect(() => registrationFor(onDelete, { objectEvents: "storageBlob" })).toThrow(ConfigurationError);
    expect(registrationFor(onDelete)).toStrictEqual({ method: "eventGrid", name: "on-delete", options: {} });
  });

  it("reads Event Grid events from a queue when asked", () => {
    expect(registrationFor(objectFn, { objectEvents: "storageQueue", queueName: "blob-events" })).toStrictEqual({
      method: "storageQueue",
      name: "on-blob",
      options: { queueName: "blob-events", connection: "AzureWebJobsStorage" },
    });
    expect(() => registrationFor(objectFn, { objectEvents: "storageQueue" })).toThrow(ConfigurationError);
  });

  it("registers HTTP functions with their route and methods, every method when none is given", () => {
    const http = defineFunction({ name: "items", trigger: triggers.http({ path: "/items/{id}", methods: ["PUT"] }), handler: noop });
    expect(registrationFor(http)).toStrictEqual({
      method: "http",
      name: "items",
      options: { methods: ["PUT"], authLevel: "anonymous", route: "items/{id}" },
    });
    const any = defineFunction({ name: "any", trigger: triggers.http(), handler: noop });
    expect(registrationFor(any, { authLevel: "function" }).options).toStrictEqual({
      methods: ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
      authLevel: "function",
      route: "{*path}",
    });
    expect(toAzureRoute("/files/{path+}")).toBe("files/{*path}");
  });

  it("registers timers with a six-field NCRONTAB, seconds first", () => {
    const hourly = defineFunction({ name: "hourly", trigger: triggers.schedule({ cron: "15 * * * *" }), handler: noop });
    const timer = vi.spyOn(app, "timer");
    const handler = toAzureFunction(hourly, { log: silentLogger });
    expect(timer).toHaveBeenCalledWith("hourly", { schedule: "0 15 * * * *", handler });
  });

  const crons: Array<[string, string]> = [
    ["*/5 * * * *", "0 */5 * * * *"],
    ["0 2 * * 1-5", "0 0 2 * * 1-5"],
    ["30 6 1 JAN *", "0 30 6 1 JAN *"],
    ["0 0 * * 7", "0 0 0 * * 0"],
    ["0 0 * * 5-7", "0 0 0 * * 5-6,0"],
    ["0 0 * * 0-7", "0 0 0 * * 0-6"],
    ["0 12 * * 1,7", "0 0 12 * * 1,0"],
  ];
  const schedule = (cron: string) =>
    registrationFor(defineFunction({ name: "cron", trigger: triggers.schedule({ cron }), handler: noop })).options;
  for (const [cron, ncrontab] of crons) {
    it(`registers cron ${JSON.stringify(cron)} as ${JSON.stringify(ncrontab)}`, () =>
      expect(schedule(cron)).toStrictEqual({ schedule: ncrontab }));
  }
  it("refuses a cron that restricts both day fields, which NCRONTAB would read as both rather than either", () => {
    expect(() => schedule("0 0 1 * 1")).toThrow(ConfigurationError);
  });

  it("warns that a timer's time zone is the Function App's WEBSITE_TIME_ZONE", () => {
    const lines: string[] = [];
    const paris = defineFunction({
      name: "paris",
      trigger: triggers.schedule({ cron: "0 8 * * *", timeZone: "Europe/Paris" }),
      handler: noop,
    });
    const previous = process.env.WEBSITE_TIME_ZONE;
    delete process.env.WEBSITE_TIME_ZONE;
    try {
      toAzureFunction(paris, {
        log: { ...silentLogger, warn: (message) => lines.push(message), child: () => silentLogger },
      });
    } finally {
      if (previous !== undefined) process.env.WEBSITE_TIME_ZONE = previous;
    }
    expect(lines).toEqual([expect.stringContaining("WEBSITE_TIME_ZONE")]);
  });

  it("maps message sources: Storage Queue by default, Service Bus queues and topics, Event Hubs with cardinality many", () => {
    const queue = defineFunction({ name: "q", trigger: triggers.messages({ source: "queue", name: "jobs" }), handler: noop });
    const topic = defineFunction({ name: "t", trigger: triggers.messages({ source: "topic", name: "alerts" }), handler: noop });
    const stream = defineFunction({ name: "s", trigger: triggers.messages({ source: "stream", name: "telemetry" }), handler: noop });
    expect(registrationFor(queue)).toStrictEqual({
      method: "storageQueue",
      name: "q",
      options: { queueName: "jobs", connection: "AzureWebJobsStorage" },
    });
    expect(registrationFor(queue, { queueService: "serviceBus", connection: "SB", cardinality: "many" })).toStrictEqual({
      method: "serviceBusQueue",
      name: "q",
      options: { queueName: "jobs", connection: "SB", cardinality: "many" },
    });
    expect(registrationFor(topic, { connection: "SB" })).toStrictEqual({
      method: "serviceBusTopic",
      name: "t",
      options: { topicName: "alerts", subscriptionName: "t", connection: "SB", cardinality: "one" },
    });
    expect(registrationFor(stream, { connection: "EH" })).toStrictEqual({
      method: "eventHub",
      name: "s",
      options: { eventHubName: "telemetry", connection: "EH", cardinality: "many", consumerGroup: "$Default" },
    });
    expect(() => registrationFor(stream)).toThrow(ConfigurationError);
    const eventHub = vi.spyOn(app, "eventHub");
    toAzureFunction(stream, { connection: "EH", log: silentLogger });
    expect(eventHub.mock.calls[0]?.[1]).toMatchObject({ cardinality: "many", eventHubName: "telemetry" });
  });

  it("registers invoke functions as an HTTP POST endpoint, and nothing when register is false", () => {
    const invoke = defineFunction({ name: "rebuild", trigger: triggers.invoke(), handler: noop });
    expect(registrationFor(invoke)).toStrictEqual({
      method: "http",
      name: "rebuild",
      options: { methods: ["POST"], authLevel: "function", route: "invoke/rebuild" },
    });
    const http = vi.spyOn(app, "http");
    toAzureFunction(invoke, { register: false, log: silentLogger });
    expect(http).not.toHaveBeenCalled();
  });
});
