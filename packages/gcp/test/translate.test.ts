import { EventTranslationError, triggers } from "@sluice/core";
import { describe, expect, it } from "vitest";
import { translateDelivery } from "../src/adapter.js";
import type { GcpDelivery } from "../src/detect.js";
import { fromHttpRequest } from "../src/triggers/http.js";
import { fromStorageLegacyCloudEvent } from "../src/triggers/storage-legacy.js";
import { fixedEnv, fixture, requestFixture } from "./helpers.js";

const K = "readings/2026/11/23/14/sensor-stream-1-2026-11-23-14-05-00-3f1c9a2e-7b1d-4c55-9a0e-2b8f6d1e4a10";
const G = "1795442700123456";
const E1 = "CMD666KhnpgDEAE=";
const NOW = fixedEnv().now();
const PAYLOAD = new TextEncoder().encode(`{"bucket":"sensor-raw","key":"${K}","rows":3}`);

const objectCreated = triggers.objectCreated({ bucket: "sensor-raw" });
const messages = triggers.messages({ source: "topic", name: "sensor-batches" });
const schedule = triggers.schedule({ cron: "0 * * * *" });

const cloudEvent = (source: string, variant: string): GcpDelivery => ({ signature: "cloudEvent", event: fixture(source, variant) });

/** A push body POSTed to a function registered as `http`. */
const pushed = (source: string, variant: string): GcpDelivery => {
  const json = fixture(source, variant);
  const body = new TextEncoder().encode(JSON.stringify(json));
  return {
    signature: "http",
    request: { method: "POST", path: "/", search: "", headers: { "content-type": "application/json" }, body },
    json,
  };
};

const created = (id: string, time: string, extra: Record<string, unknown> = {}) => ({
  kind: "object.created",
  id,
  time,
  bucket: "sensor-raw",
  key: K,
  size: 234,
  etag: E1,
  contentType: "application/x-ndjson",
  version: G,
  provider: "gcp",
  ...extra,
});
const deleted = (id: string, time: string) => ({ ...created(id, time), kind: "object.deleted" });

describe("Cloud Storage CloudEvents (Eventarc)", () => {
  it("finalized: string numbers become numbers, microseconds are rounded down, the key is data.name", () => {
    expect(translateDelivery(objectCreated, cloudEvent("storage-cloudevent", "finalized"), fixedEnv())).toStrictEqual(
      created("16470133924312187", "2026-11-23T14:05:00.147Z"),
    );
  });

  it("finalized with numeric size and generation: the same neutral fields", () => {
    expect(translateDelivery(objectCreated, cloudEvent("storage-cloudevent", "finalized-numeric-fields"), fixedEnv())).toStrictEqual(
      created("16470133924312188", "2026-11-23T14:05:00.147Z"),
    );
  });

  it("finalized with spaces, NFC and NFD accents and an emoji: the name survives byte for byte", () => {
    const result = translateDelivery(objectCreated, cloudEvent("storage-cloudevent", "finalized-unicode-name"), fixedEnv());
    expect(result).toStrictEqual({
      ...created("16470139981170452", "2026-11-23T14:05:57.934Z"),
      key: "readings/2026/11/23/14/capteur-\u00e9t\u00e9 salle 3/rele\u0301ve\u0301 \ud83c\udf21\ufe0f 14h05.ndjson",
      etag: "CLK3sr6hnpgDEAE=",
      version: "1795442757901234",
    });
    expect(Buffer.byteLength((result as { key: string }).key)).toBe(76);
  });

  it("deleted is a deletion", () => {
    expect(translateDelivery(objectCreated, cloudEvent("storage-cloudevent", "deleted"), fixedEnv())).toStrictEqual(
      deleted("16551190230957721", "2026-11-30T02:00:11.406Z"),
    );
  });

  it("archived (the live generation became noncurrent) is a deletion of that generation, never a creation", () => {
    expect(translateDelivery(objectCreated, cloudEvent("storage-cloudevent", "archived"), fixedEnv())).toStrictEqual(
      deleted("16551190230957734", "2026-11-30T02:00:11.521Z"),
    );
  });

  it("metadataUpdated is acknowledged without reaching the handler", () => {
    expect(translateDelivery(objectCreated, cloudEvent("storage-cloudevent", "metadata-updated"), fixedEnv())).toStrictEqual({
      kind: "ignored",
      id: "16480275547126640",
      reason: "google.cloud.storage.object.v1.metadataUpdated changes no object's bytes",
    });
  });

  it("binary mode as the framework delivers it (no datacontenttype, percent-encoded subject) reads the key from data.name", () => {
    const result = translateDelivery(
      objectCreated,
      cloudEvent("framework-observed", "storage-unicode-binary-percent-encoded-subject"),
      fixedEnv(),
    ) as { key: string };
    expect(result.key).toBe("readings/2026/11/23/14/capteur-\u00e9t\u00e9 salle 3/rele\u0301ve\u0301 \ud83c\udf21\ufe0f 14h05.ndjson");
  });
});

describe("1st gen Cloud Storage events, as the Functions Framework converts them", () => {
  it("finalize (context and flat shapes) is a creation with the legacy event id and timestamp", () => {
    for (const variant of ["legacy-storage-finalize-context", "legacy-storage-finalize-flat"]) {
      expect(translateDelivery(objectCreated, cloudEvent("framework-observed", variant), fixedEnv())).toStrictEqual(
        created("7283659147201853", "2026-11-23T14:05:00.147Z"),
      );
    }
  });

  it("object.change with resourceState not_exists arrives typed finalized and is still a deletion", () => {
    const converted = fixture("framework-observed", "legacy-storage-object-change-not-exists");
    expect(converted.type).toBe("google.cloud.storage.object.v1.finalized");
    expect(translateDelivery(objectCreated, { signature: "cloudEvent", event: converted }, fixedEnv())).toStrictEqual(
      deleted("7351120948805512", "2026-11-30T02:00:11.406Z"),
    );
  });

  it("object.change with resourceState exists is a creation", () => {
    expect(
      translateDelivery(objectCreated, cloudEvent("framework-observed", "legacy-storage-object-change-exists"), fixedEnv()),
    ).toStrictEqual(created("7283659147201861", "2026-11-23T14:05:00.147Z"));
  });

  it("a converted finalized event that carries timeDeleted is a deletion even without resourceState", () => {
    const converted = fixture<{ data: Record<string, unknown> }>("framework-observed", "legacy-storage-object-change-not-exists");
    const { resourceState: _dropped, ...data } = converted.data;
    expect(fromStorageLegacyCloudEvent({ ...converted, data }, fixedEnv()).kind).toBe("object.deleted");
    expect(translateDelivery(objectCreated, { signature: "cloudEvent", event: { ...converted, data } }, fixedEnv())).toStrictEqual(
      deleted("7351120948805512", "2026-11-30T02:00:11.406Z"),
    );
  });
});

describe("Cloud Storage notifications through Pub/Sub", () => {
  it("OBJECT_FINALIZE as messagePublished: bucket, key and generation from the attributes, time from eventTime", () => {
    expect(translateDelivery(objectCreated, cloudEvent("storage-pubsub", "finalize-cloudevent"), fixedEnv())).toStrictEqual(
      created("17194425001187652", "2026-11-23T14:05:00.147Z"),
    );
  });

  it("OBJECT_DELETE as messagePublished is a deletion", () => {
    expect(translateDelivery(objectCreated, cloudEvent("storage-pubsub", "delete-cloudevent"), fixedEnv())).toStrictEqual(
      deleted("17215530448893021", "2026-11-30T02:00:11.406Z"),
    );
  });

  it("the same notification as a push body to an http-registered function", () => {
    expect(translateDelivery(objectCreated, pushed("storage-pubsub", "finalize-push"), fixedEnv())).toStrictEqual(
      created("17194425001187652", "2026-11-23T14:05:00.147Z"),
    );
  });

  it("the push body after the framework's own conversion (subscription dropped) translates the same", () => {
    expect(translateDelivery(objectCreated, cloudEvent("framework-observed", "raw-push-storage-notification"), fixedEnv())).toStrictEqual(
      created("17194425001187652", "2026-11-23T14:05:00.147Z"),
    );
  });
});

describe("Pub/Sub messages", () => {
  const batch = (message: Record<string, unknown>) => ({
    kind: "messages",
    source: "topic",
    name: "sensor-batches",
    messages: [{ body: PAYLOAD, ...message }],
    provider: "gcp",
  });
  // Field order does not matter to toStrictEqual; undefined-valued keys would, and there are none.
  const message = (id: string, time: string, attributes: Record<string, string>, extra: Record<string, unknown> = {}) => ({
    id,
    time,
    attributes,
    ...extra,
  });
  const origin = { origin: "sensor-gateway-7", schema: "reading-batch/v1" };

  it("messagePublished: base64 removed, attributes, ordering key as group, topic name from the source", () => {
    expect(translateDelivery(messages, cloudEvent("pubsub-cloudevent", "message-published"), fixedEnv("sensor-batches"))).toStrictEqual(
      batch(message("2070443601311540", "2026-11-23T14:06:12.532Z", origin, { group: "stream-1" })),
    );
  });

  it("an id above 2^53 stays the exact string", () => {
    const result = translateDelivery(messages, cloudEvent("pubsub-cloudevent", "big-message-id"), fixedEnv("sensor-batches"));
    expect((result as { messages: Array<{ id: string; time: string }> }).messages[0]).toMatchObject({
      id: "17194425001187651",
      time: "2026-11-23T14:07:45.009Z",
    });
  });

  it("the emulator's message without a publish time gets the invocation time", () => {
    expect(
      translateDelivery(messages, cloudEvent("pubsub-cloudevent", "emulator-no-publish-time"), fixedEnv("sensor-batches")),
    ).toStrictEqual(batch(message("4", NOW, { origin: "local-dev" })));
  });

  it("a push body keeps the delivery attempt and the ordering key", () => {
    expect(translateDelivery(messages, pushed("pubsub-push", "push-with-delivery-attempt"), fixedEnv("sensor-batches"))).toStrictEqual(
      batch(message("13500356927496704", "2026-11-23T14:06:13.104Z", origin, { attempt: 3, group: "stream-1" })),
    );
  });

  it("a plain push body, and the emulator's push without a publish time", () => {
    expect(translateDelivery(messages, pushed("pubsub-push", "push"), fixedEnv("sensor-batches"))).toStrictEqual(
      batch(message("13500356927496704", "2026-11-23T14:06:13.104Z", origin)),
    );
    expect(translateDelivery(messages, pushed("pubsub-push", "emulator-push-no-publish-time"), fixedEnv("sensor-batches"))).toStrictEqual(
      batch(message("4", NOW, { origin: "local-dev" })),
    );
  });

  it("the emulator's push on an ordered subscription: no orderingKey (its pull answers have one), the claim-check marker kept for the runtime", () => {
    const pointer = fixture<{ message: { data: string } }>("pubsub-push", "emulator-push-ordered-claim-check").message.data;
    expect(
      translateDelivery(messages, pushed("pubsub-push", "emulator-push-ordered-claim-check"), fixedEnv("sensor-batches")),
    ).toStrictEqual({
      ...batch(message("7", "2026-11-23T17:26:33.512Z", { origin: "produce", "sluice-hops": "1", "sluice-claim-check": "1" })),
      messages: [
        {
          id: "7",
          time: "2026-11-23T17:26:33.512Z",
          attributes: { origin: "produce", "sluice-hops": "1", "sluice-claim-check": "1" },
          body: new Uint8Array(Buffer.from(pointer, "base64")),
        },
      ],
    });
  });

  it("a push body converted by the framework loses the attempt and the ordering key, and the topic on '/'", () => {
    expect(
      translateDelivery(messages, cloudEvent("framework-observed", "raw-push-delivery-attempt"), fixedEnv("sensor-batches")),
    ).toStrictEqual(batch(message("13500356927496704", "2026-11-23T14:06:13.104Z", origin)));
  });

  it("1st gen topic.publish, as converted: id and time from the event context, null attributes as {}", () => {
    expect(
      translateDelivery(messages, cloudEvent("framework-observed", "legacy-pubsub-topic-publish"), fixedEnv("other-topic")),
    ).toStrictEqual(batch(message("13500356927496705", "2026-11-23T14:06:14.220Z", { origin: "sensor-gateway-7" })));
    expect(
      translateDelivery(messages, cloudEvent("framework-observed", "legacy-pubsub-topic-publish-null-attributes"), fixedEnv("other-topic")),
    ).toStrictEqual(batch(message("13500356927496706", "2026-11-23T14:06:15.002Z", {})));
  });
});

describe("Cloud Scheduler", () => {
  it("a Pub/Sub target: the publish time, the job from the sluice-job attribute", () => {
    expect(translateDelivery(schedule, cloudEvent("scheduler", "pubsub-target"), fixedEnv("compact"))).toStrictEqual({
      kind: "schedule",
      id: "13511730027710345",
      time: "2026-11-23T15:00:00.412Z",
      schedule: "compact-readings-hourly",
      provider: "gcp",
    });
  });

  it("an HTTP target: the scheduled time converted from the job's offset to UTC, an id stable across retries", () => {
    expect(
      translateDelivery(schedule, { signature: "http", request: requestFixture("scheduler", "http-target") }, fixedEnv("compact")),
    ).toStrictEqual({
      kind: "schedule",
      id: "compact-readings-hourly@2026-11-23T14:00:00.000Z",
      time: "2026-11-23T14:00:00.000Z",
      schedule: "compact-readings-hourly",
      provider: "gcp",
    });
  });

  it("a message on the schedule's topic without the job attributes is a firing named after the topic", () => {
    expect(translateDelivery(schedule, cloudEvent("pubsub-cloudevent", "message-published"), fixedEnv("compact"))).toStrictEqual({
      kind: "schedule",
      id: "2070443601311540",
      time: "2026-11-23T14:06:12.532Z",
      schedule: "sensor-batches",
      provider: "gcp",
    });
  });
});

describe("HTTP requests", () => {
  it("a JSON POST: lower-case headers, trace id as request id, client IP from X-Forwarded-For, the raw body", () => {
    const raw = fixture<{ body: string }>("http", "post-json");
    expect(fromHttpRequest(requestFixture("http", "post-json"), fixedEnv())).toStrictEqual({
      kind: "http",
      id: "0af7651916cd43dd8448eb211c80319c",
      time: NOW,
      method: "POST",
      path: "/ingest",
      headers: fixture("http", "post-json").headers,
      query: {},
      sourceIp: "203.0.113.17",
      body: { data: raw.body, encoding: "utf8" },
      provider: "gcp",
    });
  });

  it("a GET with an encoded '/' in the query: decoded value, no body", () => {
    expect(fromHttpRequest(requestFixture("http", "get-query"), fixedEnv())).toStrictEqual({
      kind: "http",
      id: "generated-id",
      time: NOW,
      method: "GET",
      path: "/status",
      headers: fixture("http", "get-query").headers,
      query: { key: K, verbose: "1" },
      provider: "gcp",
    });
  });

  it("keeps repeated query parameters and base64-encodes a binary body", () => {
    const event = fromHttpRequest(
      {
        method: "post",
        path: "/upload",
        search: "tag=a&tag=b&x=%2F",
        headers: { "content-type": "application/octet-stream" },
        body: new Uint8Array([0, 255, 10]),
      },
      fixedEnv(),
    );
    expect(event.query).toStrictEqual({ tag: ["a", "b"], x: "/" });
    expect(event.body).toStrictEqual({ data: "AP8K", encoding: "base64" });
    expect(event.method).toBe("POST");
  });
});

describe("malformed payloads raise EventTranslationError naming provider, source and field", () => {
  const finalized = fixture<Record<string, any>>("storage-cloudevent", "finalized");
  const published = fixture<Record<string, any>>("pubsub-cloudevent", "message-published");
  const cases: Array<{ name: string; trigger: typeof objectCreated | typeof messages; event: unknown; source: string; field: string }> = [
    { name: "a plain JSON POST that is no CloudEvent", trigger: objectCreated, event: { hello: "world" }, source: "unknown", field: "" },
    { name: "a string", trigger: objectCreated, event: "readings/a.ndjson", source: "unknown", field: "" },
    {
      name: "an unknown event type",
      trigger: objectCreated,
      event: { ...finalized, type: "google.cloud.audit.log.v1.written" },
      source: "unknown",
      field: "type",
    },
    {
      name: "a storage type nobody sends",
      trigger: objectCreated,
      event: { ...finalized, type: "google.cloud.storage.object.v1.moved" },
      source: "storage-cloudevent",
      field: "type",
    },
    {
      name: "an object without a name",
      trigger: objectCreated,
      event: { ...finalized, data: { ...finalized.data, name: undefined } },
      source: "storage-cloudevent",
      field: "data.name",
    },
    {
      name: "a size that is no number",
      trigger: objectCreated,
      event: { ...finalized, data: { ...finalized.data, size: "234 bytes" } },
      source: "storage-cloudevent",
      field: "data.size",
    },
    {
      name: "a time that is no time",
      trigger: objectCreated,
      event: { ...finalized, time: "yesterday" },
      source: "storage-cloudevent",
      field: "time",
    },
    {
      name: "a generation too big to be exact as a number",
      trigger: objectCreated,
      event: { ...finalized, data: { ...finalized.data, generation: 2 ** 60 } },
      source: "storage-cloudevent",
      field: "data.generation",
    },
    {
      name: "a Pub/Sub message that is no storage notification, for an object trigger",
      trigger: objectCreated,
      event: published,
      source: "pubsub-cloudevent",
      field: "",
    },
    { name: "a storage event for a messages trigger", trigger: messages, event: finalized, source: "storage-cloudevent", field: "" },
    {
      name: "message data that is not base64",
      trigger: messages,
      event: { ...published, data: { ...published.data, message: { ...published.data.message, data: "not base64!" } } },
      source: "pubsub-cloudevent",
      field: "data.message.data",
    },
    {
      name: "a message without any id",
      trigger: messages,
      event: { ...published, id: undefined, data: { message: { data: "" } } },
      source: "pubsub-cloudevent",
      field: "data.message.messageId",
    },
    {
      name: "attributes that are not strings",
      trigger: messages,
      event: { ...published, data: { message: { ...published.data.message, attributes: { n: 1 } } } },
      source: "pubsub-cloudevent",
      field: "data.message.attributes.n",
    },
  ];
  for (const { name, trigger, event, source, field } of cases) {
    it(name, () => {
      let caught: unknown;
      try {
        translateDelivery(trigger, { signature: "cloudEvent", event }, fixedEnv("sensor-batches"));
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(EventTranslationError);
      expect(caught).toMatchObject({ provider: "gcp", source, field });
    });
  }
});

describe("logging for Cloud Logging", () => {
  it("adds severity to every line, through child loggers too", async () => {
    const { createLogger } = await import("@sluice/core");
    const { withSeverity } = await import("../src/adapter.js");
    const lines: string[] = [];
    const log = withSeverity(createLogger({ level: "debug", write: (line) => lines.push(line) }));
    log.debug("d");
    log.child({ invocationId: "1" }).error("e", { detail: 2 });
    log.warn("w");
    expect(lines.map((line) => JSON.parse(line))).toMatchObject([
      { level: "debug", severity: "DEBUG", msg: "d" },
      { level: "error", severity: "ERROR", msg: "e", invocationId: "1", detail: 2 },
      { level: "warn", severity: "WARNING", msg: "w" },
    ]);
  });
});
