import { describeAdapterContract } from "@sluice/core/testing";
import { contractBuckets, contractStore, invokeThroughFramework, nextId } from "./contract-support.js";
import { type Delivery, postJson } from "./framework.js";
import { fixture } from "./helpers.js";

const now = () => new Date().toISOString();
const finalized = fixture<Record<string, any>>("storage-cloudevent", "finalized");
const published = fixture<Record<string, any>>("pubsub-cloudevent", "message-published");

/** A storage CloudEvent for an object, in the shape Eventarc sends (microsecond time, string numbers). */
function storageEvent(type: "finalized" | "deleted", object: { bucket: string; key: string; size?: number; etag?: string }) {
  const generation = `${Date.now()}123`;
  return {
    ...finalized,
    id: nextId(),
    type: `google.cloud.storage.object.v1.${type}`,
    source: `//storage.googleapis.com/projects/_/buckets/${object.bucket}`,
    subject: `objects/${object.key}`,
    time: now().replace("Z", "412Z"),
    bucket: object.bucket,
    data: {
      ...finalized.data,
      bucket: object.bucket,
      name: object.key,
      generation,
      size: object.size === undefined ? undefined : String(object.size),
      etag: object.etag,
      ...(type === "deleted" ? { timeDeleted: now() } : {}),
    },
  };
}

function publishedEvent(body: string, attributes: Record<string, string> = {}) {
  const id = nextId();
  return {
    ...published,
    id,
    time: now(),
    data: {
      subscription: published.data.subscription,
      message: {
        data: Buffer.from(body).toString("base64"),
        attributes,
        messageId: id,
        message_id: id,
        publishTime: now(),
        publish_time: now(),
      },
    },
  };
}

// Eventarc's route: CloudEvents to functions registered with functions.cloudEvent. Object events go in
// binary mode and messages in structured mode, so both content modes run through the whole contract.
describeAdapterContract({
  provider: "gcp",
  store: contractStore,
  buckets: contractBuckets,
  invoke: invokeThroughFramework,
  maxBatch: 1,
  platformRejectsMalformedJson: "the Functions Framework parses JSON bodies before the function runs (functions-framework-nodejs#686)",
  messagesTrigger: { source: "topic", name: "sensor-batches" },
  native: {
    objectCreated: (object): Delivery => ({ kind: "cloudevent", mode: "binary", event: storageEvent("finalized", object) }),
    objectDeleted: (object): Delivery => ({ kind: "cloudevent", mode: "binary", event: storageEvent("deleted", object) }),
    messages(bodies) {
      const events = bodies.map((body) => publishedEvent(body));
      if (events.length !== 1) throw new Error("one Pub/Sub message per event");
      const event = events[0] as ReturnType<typeof publishedEvent>;
      return { native: { kind: "cloudevent", mode: "structured", event } satisfies Delivery, ids: [event.data.message.messageId] };
    },
    schedule: (): Delivery => ({
      kind: "cloudevent",
      mode: "structured",
      event: publishedEvent('{"window":"PT1H"}', { "sluice-trigger": "schedule", "sluice-job": "hourly-compaction" }),
    }),
    http: ({ method, path, query, headers, body }): Delivery => {
      const search = new URLSearchParams(
        Object.entries(query).flatMap(([name, values]) => values.map((value): [string, string] => [name, value])),
      ).toString();
      return { kind: "request", method, path: search ? `${path}?${search}` : path, headers, ...(body === undefined ? {} : { body }) };
    },
    invoke: (payload): Delivery => postJson(payload),
  },
  malformed: [
    { name: "a plain JSON POST without CloudEvent headers", event: postJson({ bucket: "contract-raw", key: "a.ndjson" }) },
    {
      name: "binary mode without ce-id (the framework passes the bare body)",
      event: {
        kind: "request",
        method: "POST",
        path: "/",
        headers: {
          "content-type": "application/json",
          "ce-type": "google.cloud.storage.object.v1.finalized",
          "ce-specversion": "1.0",
          "ce-source": "//storage.googleapis.com/projects/_/buckets/contract-raw",
        },
        body: JSON.stringify({ bucket: "contract-raw", name: "a" }),
      } satisfies Delivery,
    },
    {
      name: "a storage CloudEvent without data.name",
      event: {
        kind: "cloudevent",
        mode: "structured",
        event: { ...storageEvent("finalized", { bucket: "contract-raw", key: "a" }), data: { bucket: "contract-raw" } },
      } satisfies Delivery,
    },
    {
      name: "a storage CloudEvent whose size is not a number",
      event: {
        kind: "cloudevent",
        mode: "binary",
        event: {
          ...storageEvent("finalized", { bucket: "contract-raw", key: "a" }),
          data: { bucket: "contract-raw", name: "a", size: "big" },
        },
      } satisfies Delivery,
    },
    {
      name: "a Pub/Sub message that is no storage notification",
      event: { kind: "cloudevent", mode: "structured", event: publishedEvent("{}") } satisfies Delivery,
    },
    {
      name: "an event type nobody sends",
      event: {
        kind: "cloudevent",
        mode: "binary",
        event: { ...storageEvent("finalized", { bucket: "contract-raw", key: "a" }), type: "com.example.object.created" },
      } satisfies Delivery,
    },
  ],
});
