import { describeAdapterContract } from "@sluice/core/testing";
import { contractBuckets, contractStore, invokeThroughFramework, nextId } from "./contract-support.js";
import { type Delivery, postJson } from "./framework.js";

const now = () => new Date().toISOString();

/** A Cloud Storage notification (JSON_API_V1) in a push body, as a push subscription POSTs it. */
function notificationPush(
  eventType: "OBJECT_FINALIZE" | "OBJECT_DELETE",
  object: { bucket: string; key: string; size?: number; etag?: string },
) {
  const id = nextId();
  const generation = `${Date.now()}456`;
  const resource = {
    kind: "storage#object",
    bucket: object.bucket,
    name: object.key,
    generation,
    metageneration: "1",
    contentType: "application/x-ndjson",
    ...(object.size === undefined ? {} : { size: String(object.size) }),
    ...(object.etag === undefined ? {} : { etag: object.etag }),
  };
  return postJson({
    message: {
      attributes: {
        bucketId: object.bucket,
        objectId: object.key,
        objectGeneration: generation,
        eventType,
        eventTime: now().replace("Z", "981Z"),
        payloadFormat: "JSON_API_V1",
        notificationConfig: `projects/_/buckets/${object.bucket}/notificationConfigs/1`,
      },
      // Cloud Storage pretty-prints the resource, with a trailing newline.
      data: Buffer.from(`${JSON.stringify(resource, null, 2)}\n`).toString("base64"),
      messageId: id,
      message_id: id,
      publishTime: now(),
      publish_time: now(),
    },
    subscription: "projects/sluice-demo/subscriptions/contract-raw-push",
  });
}

// Routes that arrive as plain requests, served by functions registered with `signature: "http"`:
// Pub/Sub push subscriptions (storage notifications and messages, with deliveryAttempt) and Cloud
// Scheduler HTTP targets.
describeAdapterContract({
  provider: "gcp",
  store: contractStore,
  buckets: contractBuckets,
  invoke: invokeThroughFramework,
  maxBatch: 1,
  messagesTrigger: { source: "topic", name: "sensor-batches" },
  native: {
    objectCreated: (object) => notificationPush("OBJECT_FINALIZE", object),
    objectDeleted: (object) => notificationPush("OBJECT_DELETE", object),
    messages(bodies) {
      if (bodies.length !== 1) throw new Error("one Pub/Sub message per push");
      const id = nextId();
      const native = postJson({
        message: {
          data: Buffer.from(bodies[0] as string).toString("base64"),
          attributes: { origin: "contract" },
          messageId: id,
          publishTime: now(),
        },
        subscription: "projects/sluice-demo/subscriptions/sensor-batches-push",
        deliveryAttempt: 1,
      });
      return { native, ids: [id] };
    },
    schedule: (): Delivery => ({
      kind: "request",
      method: "POST",
      path: "/",
      headers: {
        "content-type": "application/octet-stream",
        "user-agent": "Google-Cloud-Scheduler",
        "x-cloudscheduler": "true",
        "x-cloudscheduler-jobname": "hourly-compaction",
        "x-cloudscheduler-scheduletime": new Date().toISOString().replace(/\.\d+Z$/, "+00:00"),
      },
      body: "{}",
    }),
  },
  malformed: [
    { name: "a JSON POST that is no push body", event: postJson({ bucket: "contract-raw", key: "a.ndjson" }) },
    {
      name: "a push of a message that is no storage notification",
      event: postJson({ message: { data: "e30=", messageId: "1" }, subscription: "projects/p/subscriptions/s" }),
    },
    {
      name: "a notification whose payload is not base64 JSON",
      event: postJson({
        message: {
          attributes: { bucketId: "contract-raw", objectId: "a", eventType: "OBJECT_FINALIZE", payloadFormat: "JSON_API_V1" },
          data: Buffer.from("not json").toString("base64"),
          messageId: "2",
        },
        subscription: "projects/p/subscriptions/s",
      }),
    },
    {
      name: "a body that is not JSON at all",
      event: { kind: "request", method: "POST", path: "/", headers: { "content-type": "text/plain" }, body: "hello" },
    },
  ],
});
