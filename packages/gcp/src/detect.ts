import { isRecord } from "./triggers/fields.js";
import { type GcpHttpRequest, headerValue } from "./triggers/http.js";
import { MESSAGE_PUBLISHED_TYPE } from "./triggers/pubsub.js";
import { STORAGE_EVENT_TYPE_PREFIX } from "./triggers/storage-cloudevent.js";
import { isStorageNotificationAttributes } from "./triggers/storage-pubsub.js";
import { SCHEDULER_ATTRIBUTES } from "./triggers/scheduler.js";

/**
 * What the Functions Framework hands the adapter: a CloudEvent (anything a `cloudEvent` function
 * receives, which for a plain JSON POST is just that JSON), or a request to a function registered as
 * `http` with its body parsed as JSON where it is JSON.
 */
export type GcpDelivery = { signature: "cloudEvent"; event: unknown } | { signature: "http"; request: GcpHttpRequest; json?: unknown };

/** The native sources the adapter tells apart. HTTP functions take every request and need no detection. */
export type GcpSource = "storage-legacy" | "storage-cloudevent" | "storage-pubsub" | "scheduler" | "pubsub-cloudevent" | "pubsub-push";

interface DetectionRule {
  source: GcpSource;
  matches(delivery: GcpDelivery): boolean;
}

const cloudEventOf = (delivery: GcpDelivery) =>
  delivery.signature === "cloudEvent" && isRecord(delivery.event) ? delivery.event : undefined;
const pushBodyOf = (delivery: GcpDelivery) => {
  const body = delivery.signature === "http" && isRecord(delivery.json) ? delivery.json : undefined;
  return body && isRecord(body.message) && typeof body.subscription === "string" ? body : undefined;
};
const isStorageType = (ce: Record<string, unknown> | undefined) =>
  typeof ce?.type === "string" && ce.type.startsWith(STORAGE_EVENT_TYPE_PREFIX) && isRecord(ce.data);
const isConvertedLegacyStorage = (ce: Record<string, unknown> | undefined) =>
  isStorageType(ce) &&
  isRecord(ce?.data) &&
  ("resourceState" in ce.data ||
    (ce.type === `${STORAGE_EVENT_TYPE_PREFIX}finalized` && ce.data.timeDeleted !== undefined && ce.data.timeDeleted !== null));
const publishedMessage = (ce: Record<string, unknown> | undefined) =>
  ce?.type === MESSAGE_PUBLISHED_TYPE && isRecord(ce.data) && isRecord(ce.data.message) ? ce.data.message : undefined;
/** The Pub/Sub message carried by a delivery, as a CloudEvent or as a push body. */
const messageOf = (delivery: GcpDelivery) =>
  publishedMessage(cloudEventOf(delivery)) ?? (pushBodyOf(delivery)?.message as Record<string, unknown> | undefined);
const isStorageNotification = (message: Record<string, unknown> | undefined) => isStorageNotificationAttributes(message?.attributes);
const isScheduleMessage = (message: Record<string, unknown> | undefined) =>
  isRecord(message?.attributes) && message.attributes[SCHEDULER_ATTRIBUTES.trigger] === "schedule";

/** One table; the first matching rule names the source. The rules are exclusive, so order is only for reading. */
export const DETECTION_RULES: readonly DetectionRule[] = [
  {
    source: "storage-legacy",
    // Only the framework's conversion of a 1st gen object.change keeps resourceState or yields a finalized event with timeDeleted.
    matches: (delivery) => isConvertedLegacyStorage(cloudEventOf(delivery)),
  },
  {
    source: "storage-cloudevent",
    // Eventarc names every Cloud Storage event type with the google.cloud.storage.object.v1. prefix, and no other service uses it.
    matches: (delivery) => {
      const ce = cloudEventOf(delivery);
      return isStorageType(ce) && !isConvertedLegacyStorage(ce);
    },
  },
  {
    source: "storage-pubsub",
    // Cloud Storage is the publisher that sets eventType OBJECT_* together with bucketId and objectId.
    matches: (delivery) => isStorageNotification(messageOf(delivery)),
  },
  {
    source: "scheduler",
    // Cloud Scheduler sets X-CloudScheduler: true on HTTP targets; on Pub/Sub targets only the job's own sluice-trigger attribute says so.
    matches: (delivery) =>
      (delivery.signature === "http" && headerValue(delivery.request.headers, "x-cloudscheduler") === "true") ||
      (isScheduleMessage(messageOf(delivery)) && !isStorageNotification(messageOf(delivery))),
  },
  {
    source: "pubsub-cloudevent",
    // Eventarc, and the framework's conversions of 1st gen and push bodies, deliver every Pub/Sub message as messagePublished.
    matches: (delivery) => {
      const message = publishedMessage(cloudEventOf(delivery));
      return message !== undefined && !isStorageNotification(message) && !isScheduleMessage(message);
    },
  },
  {
    source: "pubsub-push",
    // Only a push subscription wraps a message object together with the subscription's name.
    matches: (delivery) => {
      const body = pushBodyOf(delivery);
      const message = body?.message as Record<string, unknown> | undefined;
      return (
        body !== undefined &&
        headerValue((delivery as { request: GcpHttpRequest }).request.headers, "x-cloudscheduler") !== "true" &&
        !isStorageNotification(message) &&
        !isScheduleMessage(message)
      );
    },
  },
];

/**
 * Names the native source of a delivery, or `undefined` when no rule matches.
 *
 * @example
 * ```ts
 * detectSource({ signature: "cloudEvent", event: { type: "google.cloud.storage.object.v1.finalized", data: {} } }); // "storage-cloudevent"
 * ```
 */
export function detectSource(delivery: GcpDelivery): GcpSource | undefined {
  return DETECTION_RULES.find((rule) => rule.matches(delivery))?.source;
}
