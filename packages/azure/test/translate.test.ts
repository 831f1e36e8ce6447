import { readFileSync } from "node:fs";
import { join } from "node:path";
import { HttpRequest } from "@azure/functions";
import { EventTranslationError, type MessagesEventData } from "@sluice/core";
import { describe, expect, it } from "vitest";
import { fromBlobTrigger } from "../src/triggers/blob-trigger.js";
import { fromEventGrid } from "../src/triggers/event-grid.js";
import { fromEventHubs } from "../src/triggers/event-hubs.js";
import { fromHttpRequest, parseSetCookie, toHttpResponseInit } from "../src/triggers/http.js";
import { fromServiceBus } from "../src/triggers/service-bus.js";
import { fromStorageQueue } from "../src/triggers/storage-queue.js";
import { fromTimer } from "../src/triggers/timer.js";
import { callsOf, fixturesRoot, loadFixture, objectFromFacts } from "./helpers.js";

const NOW = "2026-11-23T15:00:00.000Z";
const bytes = (text: string) => new TextEncoder().encode(text);
const json = (value: unknown) => bytes(JSON.stringify(value));

describe("Event Grid and CloudEvents blob events", () => {
  const delivered = [
    "eventgrid/blob-created.json",
    "eventgrid/blob-created-array.json",
    "eventgrid/blob-created-quoted-etag.json",
    "eventgrid/blob-created-encoded-name.json",
    "eventgrid/blob-created-subject-disagrees.json",
    "eventgrid/blob-deleted.json",
    "eventgrid/datalake-flush-with-close.json",
    "eventgrid/datalake-delete.json",
    "eventgrid-cloudevents/blob-created.json",
    "eventgrid-cloudevents/blob-deleted.json",
    "eventgrid-cloudevents/array.json",
  ];
  for (const path of delivered) {
    it(`translates each call of ${path} to the object event its facts describe`, () => {
      const calls = callsOf(loadFixture(path));
      expect(calls.length).toBeGreaterThan(0);
      for (const call of calls) expect(fromEventGrid(call.input)).toStrictEqual([objectFromFacts(call.expected)]);
    });
  }

  for (const path of ["eventgrid/blob-created-array.json", "eventgrid-cloudevents/array.json"]) {
    it(`translates the whole webhook body of ${path}, one event per element`, () => {
      const fixture = loadFixture(path);
      expect(fromEventGrid(fixture.deliveredBody)).toStrictEqual(fixture.invocations.map((call: any) => objectFromFacts(call.expected)));
    });
  }

  it("takes a raw body that starts with a UTF-8 BOM, as text or as bytes", () => {
    const raw = readFileSync(join(fixturesRoot, "eventgrid/bom-prefixed.txt"));
    expect(raw[0]).toBe(0xef);
    const expected = [objectFromFacts(loadFixture("eventgrid/blob-created.json").expected)];
    expect(fromEventGrid(raw.toString("utf8"))).toStrictEqual(expected);
    expect(fromEventGrid(new Uint8Array(raw))).toStrictEqual(expected);
  });

  it("reads the webhook body an HTTP trigger receives", async () => {
    const fixture = loadFixture("http/eventgrid-webhook-post.json");
    const request = new HttpRequest(fixture.requestInit);
    expect(fromEventGrid(await request.text())).toStrictEqual(fixture.expected.events.map((facts: any) => objectFromFacts(facts)));
  });

  const skipped: Array<[string, string]> = [
    ["eventgrid/tier-changed.json", "e7182930-c01e-0042-5f60-3e9a1c0ede56"],
    ["eventgrid/async-operation-initiated.json", "f8293a41-d01e-0042-6071-3e9a1c0f0078"],
    ["eventgrid/datalake-create-file.json", "b4e5f607-901e-0042-2c3d-3e9a1c0b78f0"],
  ];
  for (const [path, id] of skipped) {
    it(`acknowledges ${path} without an object event`, () => {
      const [call] = callsOf(loadFixture(path));
      expect(fromEventGrid(call?.input)).toStrictEqual([{ kind: "skip", id, reason: expect.any(String) }]);
    });
  }

  it("acknowledges a subscription validation event that reaches the function", () => {
    const fixture = loadFixture("eventgrid/subscription-validation.json");
    expect(fixture.invocations).toEqual([]);
    expect(fromEventGrid(fixture.deliveredBody)).toStrictEqual([
      { kind: "skip", id: "3e1b5c7d-9f2a-4c6e-8b0d-1a3c5e7f9b2d", reason: "Event Grid subscription validation event" },
    ]);
  });

  it("delivers a Data Lake rename as the old name deleted and the new name created", () => {
    // The shape of Microsoft's documented BlobRenamed sample (event-schema-blob-storage), with this project's names.
    const renamed = {
      topic:
        "/subscriptions/5f2d0c71-8a43-4b6e-9d1e-0c7a3b9e2f64/resourceGroups/sluice-dev/providers/Microsoft.Storage/storageAccounts/sensorstore",
      subject: "/blobServices/default/containers/sensor-raw/blobs/readings/2026/11/23/14/part-0001.ndjson",
      eventType: "Microsoft.Storage.BlobRenamed",
      eventTime: "2026-11-23T14:05:04.1230000Z",
      id: "0a1b2c3d-e01e-0042-7182-3e9a1c101234",
      data: {
        api: "RenameFile",
        requestId: "0a1b2c3d-e01e-0042-7182-3e9a1c000000",
        destinationUrl: "https://sensorstore.dfs.core.windows.net/sensor-raw/readings/2026/11/23/14/part-0001.ndjson",
        sourceUrl: "https://sensorstore.dfs.core.windows.net/sensor-raw/_temporary/0/part-0001.ndjson",
        sequencer: "0000000000000000000000000001a2f300000000004c9e00",
      },
      dataVersion: "1",
      metadataVersion: "1",
    };
    expect(fromEventGrid(renamed)).toStrictEqual([
      {
        kind: "object.deleted",
        id: "0a1b2c3d-e01e-0042-7182-3e9a1c101234:source",
        time: "2026-11-23T14:05:04.123Z",
        bucket: "sensor-raw",
        key: "_temporary/0/part-0001.ndjson",
        provider: "azure",
      },
      {
        kind: "object.created",
        id: "0a1b2c3d-e01e-0042-7182-3e9a1c101234",
        time: "2026-11-23T14:05:04.123Z",
        bucket: "sensor-raw",
        key: "readings/2026/11/23/14/part-0001.ndjson",
        provider: "azure",
      },
    ]);
  });

  it("accepts a CloudEvent spelled with specVersion, as some Microsoft samples do", () => {
    const fixture = loadFixture("eventgrid-cloudevents/blob-created.json");
    const { specversion, ...rest } = fixture.input;
    expect(fromEventGrid({ ...rest, specVersion: specversion })).toStrictEqual([objectFromFacts(fixture.expected)]);
  });

  it("reads the account from the path for emulator and IP endpoints", () => {
    const event = structuredClone(loadFixture("eventgrid/blob-created.json").input);
    event.data.url = "http://127.0.0.1:10000/devstoreaccount1/sensor-raw/readings/a%20b.ndjson";
    expect(fromEventGrid(event)).toMatchObject([{ bucket: "sensor-raw", key: "readings/a b.ndjson" }]);
  });

  const malformed: Array<[string, (event: any) => unknown, string]> = [
    ["data.url missing", (event) => delete event.data.url, "data.url"],
    ["data.url with broken percent-encoding", (event) => (event.data.url = "https://a.blob.core.windows.net/c/%E0%A4%A"), "data.url"],
    ["data.url without a blob name", (event) => (event.data.url = "https://a.blob.core.windows.net/c"), "data.url"],
    ["eventTime that is no time", (event) => (event.eventTime = "yesterday"), "eventTime"],
    ["data that is not an object", (event) => (event.data = "x"), "data"],
    ["a size given as text", (event) => (event.data.contentLength = "48213"), "data.contentLength"],
    ["an event type from another service", (event) => (event.eventType = "Microsoft.Resources.ResourceWriteSuccess"), "eventType"],
  ];
  for (const [name, mutate, field] of malformed) {
    it(`raises EventTranslationError for ${name}`, () => {
      const event = structuredClone(loadFixture("eventgrid/blob-created.json").input);
      mutate(event);
      const error = captureError(() => fromEventGrid(event));
      expect(error).toBeInstanceOf(EventTranslationError);
      expect(error).toMatchObject({ provider: "azure", source: "event-grid", field });
    });
  }

  it("raises EventTranslationError for a body that is not JSON, an empty batch and a stranger", () => {
    for (const input of ["{not json", "\uFEFF", [], [{ hello: "world" }], 42, null]) {
      expect(captureError(() => fromEventGrid(input))).toBeInstanceOf(EventTranslationError);
    }
  });
});

describe("blob trigger", () => {
  const key = "readings/2026/11/23/14/sensor-stream-1-2026-11-23-14-05-00-3f1c9a2e-7b1d-4c55-9a0e-2b8f6d1e4a10";
  it("translates extension 5.x metadata, whose eTag is {}", () => {
    const fixture = loadFixture("blob-trigger/blob-created.json");
    expect(Buffer.isBuffer(fixture.input)).toBe(true);
    expect(fixture.input.length).toBe(fixture.expected.bodyBytes);
    expect(fromBlobTrigger(fixture.triggerMetadata, NOW)).toStrictEqual({
      kind: "object.created",
      id: `sensor-raw/${key}@2026-11-23T14:05:01.000Z`,
      time: fixture.expected.time,
      bucket: fixture.expected.bucket,
      key: fixture.expected.key,
      size: 124,
      contentType: "application/x-ndjson",
      provider: "azure",
    });
  });

  it("decodes the name from the uri", () => {
    const fixture = loadFixture("blob-trigger/encoded-name.json");
    expect(fromBlobTrigger(fixture.triggerMetadata, NOW)).toMatchObject({ bucket: "sensor-raw", key: fixture.expected.key });
    expect(fromBlobTrigger(fixture.triggerMetadata, NOW)).not.toHaveProperty("etag");
  });

  it("translates extension 4.x metadata: length and a quoted eTag", () => {
    const fixture = loadFixture("blob-trigger/legacy-extension-v4.json");
    expect(fromBlobTrigger(fixture.triggerMetadata, NOW)).toStrictEqual({
      kind: "object.created",
      id: `sensor-raw/${key}@0x8DE0B7A3C4F5D61`,
      time: "2026-11-23T14:05:01.000Z",
      bucket: "sensor-raw",
      key,
      size: 124,
      etag: "0x8DE0B7A3C4F5D61",
      contentType: "application/x-ndjson",
      provider: "azure",
    });
  });

  it("raises EventTranslationError without usable metadata", () => {
    for (const metadata of [undefined, {}, { blobTrigger: "no-slash" }, { blobTrigger: "c/n", uri: "not a url" }]) {
      expect(captureError(() => fromBlobTrigger(metadata, NOW))).toMatchObject({ provider: "azure", source: "blob-trigger" });
    }
  });
});

describe("Storage Queue", () => {
  it("translates a JSON message: the body the library parsed is serialised back", () => {
    const fixture = loadFixture("storage-queue/message-json.json");
    expect(fromStorageQueue(fixture.input, fixture.triggerMetadata, { name: "sensor-jobs", now: NOW })).toStrictEqual({
      kind: "messages",
      source: "queue",
      name: "sensor-jobs",
      provider: "azure",
      messages: [
        { id: fixture.expected.messageId, time: fixture.expected.insertionTime, body: json(fixture.input), attributes: {}, attempt: 1 },
      ],
    } satisfies MessagesEventData);
  });

  it("translates a text message with its dequeue count as the attempt", () => {
    const fixture = loadFixture("storage-queue/message-string.json");
    expect(fromStorageQueue(fixture.input, fixture.triggerMetadata, { name: "q", now: NOW }).messages).toStrictEqual([
      {
        id: "8b2d4f6a-0c1e-4a3b-9d5f-7e9a1b3c5d70",
        time: "2026-11-23T14:05:02.000Z",
        body: bytes(fixture.input),
        attributes: {},
        attempt: 3,
      },
    ]);
  });
});

describe("Service Bus", () => {
  it("translates one message: sequence number as a string, delivery count as the attempt", () => {
    const fixture = loadFixture("service-bus/single.json");
    expect(fromServiceBus(fixture.input, fixture.triggerMetadata, { source: "queue", name: "sensor-sb", now: NOW })).toStrictEqual({
      kind: "messages",
      source: "queue",
      name: "sensor-sb",
      provider: "azure",
      messages: [
        {
          id: "a3c1f9e2-401e-0042-5d7b-3e9a1c06f4d2",
          time: "2026-11-23T14:05:02.715Z",
          body: json(fixture.input),
          attributes: {
            "aeg-subscription-name": "SLUICE-BLOB-CREATED",
            "aeg-delivery-count": "0",
            "aeg-event-type": "Microsoft.Storage.BlobCreated",
            "aeg-metadata-version": "1",
            "aeg-data-version": "",
          },
          attempt: 1,
          sequence: "17",
        },
      ],
    } satisfies MessagesEventData);
  });

  it("turns a messageId the library parsed into a number back into a string", () => {
    const fixture = loadFixture("service-bus/single-numeric-message-id.json");
    expect(typeof fixture.triggerMetadata.messageId).toBe("number");
    expect(fromServiceBus(fixture.input, fixture.triggerMetadata, { source: "topic", name: "t", now: NOW }).messages).toStrictEqual([
      {
        id: "1000457",
        time: "2026-11-23T14:06:10.041Z",
        body: json(fixture.input),
        attributes: { producer: "backfill-tool", attempt: "1" },
        attempt: 1,
        sequence: "19",
      },
    ]);
  });

  it("translates a batch from the …Array keys, ignoring string arrays the host shortened", () => {
    const fixture = loadFixture("service-bus/batch.json");
    const properties = fixture.triggerMetadata.applicationPropertiesArray[0];
    expect(fromServiceBus(fixture.input, fixture.triggerMetadata, { source: "queue", name: "q", now: NOW }).messages).toStrictEqual(
      fixture.expected.map((facts: any, index: number) => ({
        id: facts.messageId,
        time: facts.enqueuedTime,
        body: json(fixture.input[index]),
        attributes: properties,
        attempt: facts.deliveryCount,
        sequence: facts.sequenceNumber,
      })),
    );
  });

  it("falls back to the sequence number when messageIdArray does not line up with the batch", () => {
    const fixture = loadFixture("service-bus/batch.json");
    fixture.triggerMetadata.messageIdArray = ["only-one"];
    expect(
      fromServiceBus(fixture.input, fixture.triggerMetadata, { source: "queue", name: "q", now: NOW }).messages.map((m) => m.id),
    ).toEqual(["seq-17", "seq-18"]);
  });
});

describe("Event Hubs", () => {
  it("translates a batch: ids, sequence numbers and offsets as strings, partition keys from system properties", () => {
    const fixture = loadFixture("event-hubs/batch.json");
    const translated = fromEventHubs(fixture.input, fixture.triggerMetadata, { name: "sensor-telemetry", now: NOW });
    expect(translated).toStrictEqual({
      kind: "messages",
      source: "stream",
      name: "sensor-telemetry",
      provider: "azure",
      messages: [
        {
          id: "3:4821",
          time: "2026-11-23T14:05:00.812Z",
          body: json(fixture.input[0]),
          attributes: { schemaVersion: "3", source: "gw-7" },
          group: "s-1",
          sequence: "4821",
        },
        { id: "3:4822", time: "2026-11-23T14:05:00.900Z", body: json(fixture.input[1]), attributes: {}, sequence: "4822" },
        {
          id: "3:4823",
          time: "2026-11-23T14:05:01.000Z",
          body: json(fixture.input[2]),
          attributes: { schemaVersion: "3", source: "gw-7" },
          group: "s-1",
          sequence: "4823",
        },
      ],
    } satisfies MessagesEventData);
    expect(translated.messages.map((message) => [message.sequence, message.time])).toEqual(
      fixture.expected.map((facts: any) => [facts.sequenceNumber, facts.enqueuedTime]),
    );
  });

  it("reads Long-like sequence numbers exactly", () => {
    const fixture = loadFixture("event-hubs/batch-long-sequence-numbers.json");
    expect(fromEventHubs(fixture.input, fixture.triggerMetadata, { name: "h", now: NOW }).messages).toStrictEqual(
      fixture.expected.map((facts: any, index: number) => ({
        id: `3:${facts.sequenceNumber}`,
        time: facts.enqueuedTime,
        body: json(fixture.input[index]),
        attributes: {},
        sequence: facts.sequenceNumber,
      })),
    );
  });

  it("reads one event registered with cardinality one, from the keys without the Array suffix", () => {
    const metadata = {
      partitionContext: { partitionId: "5" },
      sequenceNumber: 77,
      offset: 16016,
      enqueuedTimeUtc: "2026-11-23T14:05:00.9",
      partitionKey: "s-9",
      properties: { source: "gw-7" },
    };
    expect(fromEventHubs({ sensor: "s-9" }, metadata, { name: "h", now: NOW }).messages).toStrictEqual([
      {
        id: "5:77",
        time: "2026-11-23T14:05:00.900Z",
        body: json({ sensor: "s-9" }),
        attributes: { source: "gw-7" },
        group: "s-9",
        sequence: "77",
      },
    ]);
  });

  it("keeps a 64-bit sequence number beyond 2^53 exact", () => {
    const metadata = {
      partitionContext: { partitionId: "0" },
      sequenceNumberArray: [{ low: -1, high: 0x7fffffff, unsigned: false }],
      enqueuedTimeUtcArray: ["2026-11-23T14:05:00.812"],
    };
    expect(fromEventHubs(["x"], metadata, { name: "h", now: NOW }).messages[0]?.sequence).toBe("9223372036854775807");
  });

  it("never raises a TypeError when arrays do not line up, and names the field it cannot read", () => {
    const metadata = { partitionContext: { partitionId: "1" }, sequenceNumberArray: [1], offsetArray: [] };
    const error = captureError(() => fromEventHubs(["a", "b"], metadata, { name: "h", now: NOW }));
    expect(error).toBeInstanceOf(EventTranslationError);
    expect(error).toMatchObject({ source: "event-hubs", field: "triggerMetadata.sequenceNumberArray[0]" });
  });
});

describe("timer", () => {
  for (const path of ["timer/timer.json", "timer/timer-no-schedule-status.json"]) {
    it(`translates ${path}: the invocation's time, the function's name`, () => {
      const fixture = loadFixture(path);
      expect(fromTimer(fixture.input, { invocationId: "inv-1", functionName: "nightly-report", now: NOW })).toStrictEqual({
        kind: "schedule",
        id: "inv-1",
        time: NOW,
        schedule: "nightly-report",
        provider: "azure",
      });
    });
  }
});

describe("HTTP", () => {
  it("translates a GET with a query and no body", async () => {
    const fixture = loadFixture("http/get-with-query.json");
    expect(await fromHttpRequest(new HttpRequest(fixture.requestInit), { invocationId: "inv-h", now: NOW })).toStrictEqual({
      kind: "http",
      id: "inv-h",
      time: NOW,
      method: "GET",
      path: "/ingest",
      headers: { accept: "application/json", "x-request-id": "0c8f2e4a-6b1d-4f3e-a5c7-9e2b4d6f8a10" },
      query: fixture.expected.query,
      provider: "azure",
    });
  });

  it("translates the Event Grid webhook POST with its text body", async () => {
    const fixture = loadFixture("http/eventgrid-webhook-post.json");
    const event = await fromHttpRequest(new HttpRequest(fixture.requestInit), { invocationId: "inv-w", now: NOW });
    expect(event.method).toBe("POST");
    expect(event.body).toStrictEqual({ data: fixture.requestInit.body.string, encoding: "utf8" });
    expect(event.headers["aeg-event-type"]).toBe("Notification");
  });

  it("keeps repeated query parameters, lower-cases headers and base64-encodes a binary body", async () => {
    const request = new HttpRequest({
      method: "put",
      url: "https://app.azurewebsites.net/api/items/7?tag=a&tag=b&one=1",
      headers: { "Content-Type": "application/octet-stream", "X-Forwarded-For": "203.0.113.9:51234, 10.0.0.1" },
      body: { bytes: new Uint8Array([0, 255, 1]) },
    });
    const event = await fromHttpRequest(request, { invocationId: "i", now: NOW });
    expect(event).toStrictEqual({
      kind: "http",
      id: "i",
      time: NOW,
      method: "PUT",
      path: "/items/7",
      headers: { "content-type": "application/octet-stream", "x-forwarded-for": "203.0.113.9:51234, 10.0.0.1" },
      query: { tag: ["a", "b"], one: "1" },
      sourceIp: "203.0.113.9",
      body: { data: Buffer.from([0, 255, 1]).toString("base64"), encoding: "base64" },
      provider: "azure",
    });
  });
});

describe("HTTP answers", () => {
  it("falls back to the host's query map when the URL carries no query string", async () => {
    const request = new HttpRequest({ method: "GET", url: "https://a.azurewebsites.net/api", query: { day: "2026-11-23" } });
    expect((await fromHttpRequest(request, { invocationId: "i", now: NOW })).query).toStrictEqual({ day: "2026-11-23" });
  });

  it("turns a handler's result into HttpResponseInit: headers as given, bytes as bytes, no body for an empty one", () => {
    const bytes = new Uint8Array([1, 2, 3]);
    expect(
      toHttpResponseInit({ status: 200, headers: { "content-type": "application/octet-stream" }, cookies: [], body: bytes }),
    ).toStrictEqual({
      status: 200,
      headers: { "content-type": "application/octet-stream" },
      body: bytes,
    });
    expect(toHttpResponseInit({ status: 204, headers: {}, cookies: [], body: "" })).toStrictEqual({ status: 204, headers: {} });
  });

  it("parses Set-Cookie attributes into the library's Cookie", () => {
    expect(
      parseSetCookie("id=a=b; Domain=example.com; Path=/x; Expires=Wed, 21 Oct 2026 07:28:00 GMT; SameSite=None; Secure"),
    ).toStrictEqual({
      name: "id",
      value: "a=b",
      domain: "example.com",
      path: "/x",
      expires: new Date("2026-10-21T07:28:00Z"),
      sameSite: "None",
      secure: true,
    });
  });
});

function captureError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
}
