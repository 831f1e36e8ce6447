import { randomUUID } from "node:crypto";
import { HttpRequest, HttpResponse, InvocationContext } from "@azure/functions";
import { BlobServiceClient } from "@azure/storage-blob";
import {
  defineFunction,
  destinations,
  type FailureReport,
  type MessagesEvent,
  type NeutralEvent,
  readAllBytes,
  silentLogger,
  triggers,
} from "@sluice/core";
import fc from "fast-check";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { BlobObjectStore, MessagesFailedError, toAzureFunction } from "../src/index.js";
import { callHandler } from "./azure-native.js";
import { loadFixture } from "./helpers.js";

const client = BlobServiceClient.fromConnectionString(inject("azuriteConnectionString"));
const store = new BlobObjectStore({ blobServiceClient: client });

beforeAll(async () => {
  await client.getContainerClient("adapter-failures").createIfNotExists();
});

/** An Event Hubs batch shaped like the host's: parsed bodies, per-event arrays, system properties. */
function eventHubsBatch(bodies: unknown[], partitionId = "0", firstSequence = 100) {
  const sequences = bodies.map((_body, index) => firstSequence + index);
  return {
    input: bodies,
    triggerMetadata: {
      partitionContext: { eventHubName: "telemetry", consumerGroup: "$Default", partitionId },
      sequenceNumberArray: sequences,
      offsetArray: sequences.map((sequence) => sequence * 208),
      enqueuedTimeUtcArray: sequences.map(() => "2026-11-23T14:05:00.812"),
      propertiesArray: sequences.map(() => ({})),
      systemPropertiesArray: sequences.map((sequence) => ({
        sequenceNumber: sequence,
        offset: sequence * 208,
        offsetString: String(sequence * 208),
        enqueuedTimeUtc: "2026-11-23T14:05:00.812",
        partitionKey: null,
      })),
    },
    ids: sequences.map((sequence) => `${partitionId}:${sequence}`),
  };
}

describe("Event Hubs: failed events go to onFailure before the invocation returns", () => {
  it("routes exactly the failed events, for any batch, any failures and either onFailure behaviour", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.string(), fc.record({ v: fc.integer(), s: fc.string({ unit: "grapheme" }) })), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }),
        fc.boolean(),
        fc.constantFrom("each", "fail"),
        async (payloads, failMask, onFailureWorks, style) => {
          const bodies = payloads.map((payload, index) => ({ index, payload }));
          const failing = new Set(bodies.filter((_body, index) => failMask[index]).map((body) => body.index));
          const { input, triggerMetadata, ids } = eventHubsBatch(bodies);
          const reports: FailureReport[] = [];
          const fn = defineFunction({
            name: "eh-property",
            trigger: triggers.messages({ source: "stream", name: "telemetry" }),
            onFailure: destinations.custom(async (report: FailureReport) => {
              if (!onFailureWorks) throw new Error("quarantine unavailable");
              reports.push(report);
            }),
            async handler(event: MessagesEvent) {
              if (style === "each") {
                await event.each((message) => {
                  if (failing.has(message.json<{ index: number }>().index)) throw new Error(`event ${message.id} is bad`);
                });
              } else {
                for (const message of event.messages) if (failing.has(message.json<{ index: number }>().index)) message.fail("bad");
              }
            },
          });
          const handler = toAzureFunction(fn, { connection: "EH", register: false, store, log: silentLogger });
          const settled = await callHandler(handler, { input, triggerMetadata }).then(
            () => "resolved",
            (error: unknown) => error,
          );
          const failedIds = ids.filter((_id, index) => failing.has(index));
          const routed = reports.flatMap((report) => report.failures.map((failure) => failure.messageId));
          if (failedIds.length === 0) {
            expect(settled).toBe("resolved");
            expect(reports).toEqual([]);
          } else if (onFailureWorks) {
            // Checkpointed after this returns: every failed event is already in onFailure, once, with its body.
            expect(settled).toBe("resolved");
            expect(routed).toEqual(failedIds);
            for (const failure of reports.flatMap((report) => report.failures)) {
              const index = ids.indexOf(failure.messageId as string);
              expect(JSON.parse(failure.raw as string)).toEqual(bodies[index]);
            }
          } else {
            // Nothing could be routed: the invocation fails loudly instead of pretending.
            expect(settled).toBeInstanceOf(Error);
            expect(routed).toEqual([]);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("writes the failed events to a quarantine blob on Azurite before returning", async () => {
    const { input, triggerMetadata, ids } = eventHubsBatch([{ t: 1 }, "not json", { t: 3 }], "7", 9_007_199_254_740_000);
    const invocationId = randomUUID();
    const fn = defineFunction({
      name: "eh-quarantine",
      trigger: triggers.messages({ source: "stream", name: "telemetry" }),
      onFailure: destinations.objectStore({
        bucket: "adapter-failures",
        key: (report: FailureReport) => `eh/${report.invocationId}.ndjson`,
      }),
      async handler(event) {
        await event.each((message) => message.json());
      },
    });
    const handler = toAzureFunction(fn, { connection: "EH", register: false, store, log: silentLogger });
    await handler(input, new InvocationContext({ invocationId, functionName: "eh-quarantine", triggerMetadata }));
    const lines = new TextDecoder()
      .decode(await readAllBytes(await store.get("adapter-failures", `eh/${invocationId}.ndjson`)))
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => [line.messageId, line.raw])).toEqual([[ids[1], "not json"]]);
  });
});

describe("Service Bus", () => {
  const batch = () => {
    const fixture = loadFixture("service-bus/batch.json");
    fixture.input.push({ third: true });
    Object.assign(fixture.triggerMetadata, {
      messageIdArray: ["m-1", "m-2", "m-3"],
      sequenceNumberArray: [17, 18, 19],
      deliveryCountArray: [2, 1, 3],
      enqueuedTimeUtcArray: ["2026-11-23T14:05:02.715", "2026-11-23T14:05:03.9", "2026-11-23T14:05:04"],
      applicationPropertiesArray: [{}, {}, {}],
    });
    return fixture;
  };

  it("throws for a batch with failures so that the whole batch is delivered again, naming the failed ones", async () => {
    const fixture = batch();
    const fn = defineFunction({
      name: "sb-batch",
      trigger: triggers.messages({ source: "queue", name: "jobs" }),
      async handler(event) {
        event.messages[1]?.fail("bad");
      },
    });
    const handler = toAzureFunction(fn, { queueService: "serviceBus", connection: "SB", cardinality: "many", store, log: silentLogger });
    const error = await callHandler(handler, fixture).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MessagesFailedError);
    expect((error as MessagesFailedError).messageIds).toEqual(["m-2"]);
  });

  it("routes messages at maxAttempts to onFailure and retries only the others", async () => {
    const fixture = batch();
    const routed: string[] = [];
    const fn = defineFunction({
      name: "sb-max",
      trigger: triggers.messages({ source: "queue", name: "jobs" }),
      maxAttempts: 2,
      onFailure: destinations.custom((report: FailureReport) => {
        routed.push(...report.failures.map((failure) => failure.messageId as string));
      }),
      async handler(event) {
        for (const message of event.messages) message.fail("bad");
      },
    });
    const handler = toAzureFunction(fn, { queueService: "serviceBus", connection: "SB", cardinality: "many", store, log: silentLogger });
    const error = await callHandler(handler, fixture).catch((caught: unknown) => caught);
    expect(routed).toEqual(["m-1", "m-3"]);
    expect((error as MessagesFailedError).messageIds).toEqual(["m-2"]);
  });

  it("acknowledges a batch whose messages all succeed, and sees the delivery count as the attempt", async () => {
    const attempts: Array<number | undefined> = [];
    const fn = defineFunction({
      name: "sb-ok",
      trigger: triggers.messages({ source: "topic", name: "alerts" }),
      async handler(event) {
        attempts.push(...event.messages.map((message) => message.attempt));
      },
    });
    const handler = toAzureFunction(fn, { connection: "SB", cardinality: "many", store, log: silentLogger });
    await expect(callHandler(handler, batch())).resolves.toBeUndefined();
    expect(attempts).toEqual([2, 1, 3]);
  });
});

describe("Storage Queue", () => {
  it("retries a failed message by throwing, and routes it once dequeueCount reaches maxAttempts", async () => {
    const fixture = loadFixture("storage-queue/message-string.json");
    const routed: unknown[] = [];
    const fn = defineFunction({
      name: "queue-max",
      trigger: triggers.messages({ source: "queue", name: "jobs" }),
      maxAttempts: 3,
      onFailure: destinations.custom((report: FailureReport) => {
        routed.push(...report.failures.map((failure) => failure.messageId));
      }),
      async handler() {
        throw new Error("still broken");
      },
    });
    const handler = toAzureFunction(fn, { store, log: silentLogger });
    await expect(
      callHandler(handler, { ...fixture, triggerMetadata: { ...fixture.triggerMetadata, dequeueCount: 2 } }),
    ).rejects.toBeInstanceOf(MessagesFailedError);
    expect(routed).toEqual([]);
    await expect(callHandler(handler, fixture)).resolves.toBeUndefined();
    expect(routed).toEqual(["8b2d4f6a-0c1e-4a3b-9d5f-7e9a1b3c5d70"]);
  });
});

describe("object functions", () => {
  const seen: NeutralEvent[] = [];
  const fn = defineFunction({
    name: "objects",
    trigger: triggers.objectCreated({ bucket: "sensor-raw", prefix: "readings/" }),
    async handler(event) {
      seen.push(event);
    },
  });

  it("acknowledges without running the handler a subscription validation event, a tier change and Data Lake's empty CreateFile", async () => {
    seen.length = 0;
    const handler = toAzureFunction(fn, { store, log: silentLogger });
    const validation = loadFixture("eventgrid/subscription-validation.json").deliveredBody[0];
    await expect(callHandler(handler, { input: validation, triggerMetadata: { data: validation.data } })).resolves.toBeUndefined();
    for (const path of ["eventgrid/tier-changed.json", "eventgrid/datalake-create-file.json"]) {
      await expect(callHandler(handler, loadFixture(path))).resolves.toBeUndefined();
    }
    expect(seen).toEqual([]);
    await callHandler(handler, loadFixture("eventgrid/datalake-flush-with-close.json"));
    expect(seen.map((event) => [event.kind, (event as { etag?: string }).etag])).toEqual([["object.created", "0x8DE0B7A3C7E2F14"]]);
  });

  it("runs on the blob trigger's input and on Event Grid events delivered through a Storage Queue", async () => {
    seen.length = 0;
    const viaBlob = toAzureFunction(fn, { objectEvents: "storageBlob", store, log: silentLogger });
    await callHandler(viaBlob, loadFixture("blob-trigger/encoded-name.json"));
    const viaQueue = toAzureFunction(fn, { objectEvents: "storageQueue", queueName: "blob-events", store, log: silentLogger });
    await callHandler(viaQueue, loadFixture("storage-queue/message-json.json"));
    expect(seen.map((event) => (event as { key: string }).key)).toEqual([
      "readings/2026/11/23/14/station été #7/sensor stream+1 100%.ndjson",
      "readings/2026/11/23/14/sensor-stream-1-2026-11-23-14-05-00-3f1c9a2e-7b1d-4c55-9a0e-2b8f6d1e4a10",
    ]);
  });
});

describe("HTTP and invoke", () => {
  it("answers bytes as bytes and each Set-Cookie as a cookie", async () => {
    const fn = defineFunction({
      name: "png",
      trigger: triggers.http({ path: "/image" }),
      async handler() {
        const headers = new Headers({ "content-type": "image/png" });
        headers.append("set-cookie", "session=abc; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=3600");
        headers.append("set-cookie", "theme=dark");
        return new Response(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 255]), { status: 200, headers });
      },
    });
    const handler = toAzureFunction(fn, { store, log: silentLogger });
    const init = await callHandler(handler, { input: new HttpRequest({ method: "GET", url: "https://a.azurewebsites.net/api/image" }) });
    const response = new HttpResponse(init as ConstructorParameters<typeof HttpResponse>[0]);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/png");
    expect([...new Uint8Array(await response.arrayBuffer())]).toEqual([0x89, 0x50, 0x4e, 0x47, 0, 255]);
    expect(response.cookies).toEqual([
      { name: "session", value: "abc", path: "/", httpOnly: true, secure: true, sameSite: "Lax", maxAge: 3600 },
      { name: "theme", value: "dark" },
    ]);
  });

  it("answers a 404 for a path outside the trigger's", async () => {
    const fn = defineFunction({ name: "items", trigger: triggers.http({ path: "/items/{id}" }), handler: async () => ({ ok: true }) });
    const handler = toAzureFunction(fn, { store, log: silentLogger });
    const init = (await callHandler(handler, {
      input: new HttpRequest({ method: "GET", url: "https://a.azurewebsites.net/api/other" }),
    })) as {
      status: number;
    };
    expect(init.status).toBe(404);
  });

  it("answers 400 to an invoke whose payload is not JSON, without running the handler", async () => {
    let calls = 0;
    const fn = defineFunction({
      name: "rebuild",
      trigger: triggers.invoke(),
      handler: async () => {
        calls++;
      },
    });
    const handler = toAzureFunction(fn, { store, log: silentLogger });
    const request = new HttpRequest({ method: "POST", url: "https://a.azurewebsites.net/api/invoke/rebuild", body: { string: "{nope" } });
    expect(await callHandler(handler, { input: request })).toMatchObject({ status: 400 });
    expect(calls).toBe(0);
  });
});

describe("timer", () => {
  it("names the schedule after the registered function and uses the invocation time", async () => {
    const seen: NeutralEvent[] = [];
    const fn = defineFunction({
      name: "nightly",
      trigger: triggers.schedule({ cron: "0 3 * * *" }),
      async handler(event) {
        seen.push(event);
      },
    });
    const handler = toAzureFunction(fn, { name: "nightly-report", store, log: silentLogger });
    const before = Date.now();
    await callHandler(handler, loadFixture("timer/timer-no-schedule-status.json"));
    const event = seen[0] as NeutralEvent & { kind: "schedule" };
    expect(event.schedule).toBe("nightly-report");
    expect(Date.parse(event.time)).toBeGreaterThanOrEqual(before - 1);
    expect(Date.parse(event.time)).toBeLessThanOrEqual(Date.now());
  });
});
