import type { ObjectEventData } from "@sluice/core";
import {
  type IgnoredEvent,
  type TranslationEnv,
  decodeBase64,
  idString,
  isRecord,
  optionalString,
  optionalTime,
  requireRecord,
  requireString,
  translationError,
} from "./fields.js";
import { objectEvent, objectFields } from "./storage-object.js";

/**
 * The attributes Cloud Storage sets on every notification message.
 *
 * @example
 * ```ts
 * const attributes = message.attributes as StorageNotificationAttributes;
 * if (attributes.eventType === "OBJECT_FINALIZE") console.log(attributes.bucketId, attributes.objectId);
 * ```
 * @see https://cloud.google.com/storage/docs/pubsub-notifications#attributes
 */
export interface StorageNotificationAttributes {
  eventType: "OBJECT_FINALIZE" | "OBJECT_DELETE" | "OBJECT_ARCHIVE" | "OBJECT_METADATA_UPDATE";
  bucketId: string;
  objectId: string;
  objectGeneration?: string;
  eventTime?: string;
  payloadFormat?: "JSON_API_V1" | "NONE";
  notificationConfig?: string;
  overwroteGeneration?: string;
  overwrittenByGeneration?: string;
  [attribute: string]: string | undefined;
}

/** Whether Pub/Sub message attributes are a Cloud Storage notification's. */
export function isStorageNotificationAttributes(attributes: unknown): attributes is StorageNotificationAttributes {
  return (
    isRecord(attributes) &&
    typeof attributes.eventType === "string" &&
    attributes.eventType.startsWith("OBJECT_") &&
    typeof attributes.bucketId === "string" &&
    typeof attributes.objectId === "string"
  );
}

/** The same meaning as the Eventarc types: see `storageKindOf`. */
const KIND_OF_NOTIFICATION: Record<string, ObjectEventData["kind"] | "ignored"> = {
  OBJECT_FINALIZE: "object.created",
  OBJECT_DELETE: "object.deleted",
  OBJECT_ARCHIVE: "object.deleted",
  OBJECT_METADATA_UPDATE: "ignored",
};

/**
 * Translates one Cloud Storage notification message (from a `messagePublished` CloudEvent or a push
 * body). Bucket, key, generation and time come from the attributes, which every payload format has;
 * size, etag and content type from the `JSON_API_V1` payload when there is one. The event time is the
 * notification's `eventTime`, not the later publish time.
 */
export function fromStorageNotification(
  value: unknown,
  field: string,
  fallbacks: { id?: string; time?: string },
  env: TranslationEnv,
): ObjectEventData | IgnoredEvent {
  const source = "storage-pubsub";
  const message = requireRecord(value, source, field);
  const attributes = requireRecord(message.attributes, source, `${field}.attributes`);
  const eventType = requireString(attributes.eventType, source, `${field}.attributes.eventType`);
  const kind = KIND_OF_NOTIFICATION[eventType];
  if (kind === undefined) throw translationError(source, `${field}.attributes.eventType`, `unknown notification type ${eventType}`);
  const id = requireString(
    idString(message.messageId, source, `${field}.messageId`) ??
      idString(message.message_id, source, `${field}.message_id`) ??
      fallbacks.id,
    source,
    `${field}.messageId`,
  );
  if (kind === "ignored") return { kind, id, reason: `${eventType} changes no object's bytes` };
  const payloadFormat = optionalString(attributes.payloadFormat, source, `${field}.attributes.payloadFormat`);
  let resource: Record<string, unknown> = {};
  if (payloadFormat === "JSON_API_V1" && message.data) {
    const text = new TextDecoder().decode(decodeBase64(message.data, source, `${field}.data`));
    try {
      resource = requireRecord(JSON.parse(text), source, `${field}.data`);
    } catch (cause) {
      throw cause instanceof SyntaxError ? translationError(source, `${field}.data`, "JSON_API_V1 payload is not JSON", cause) : cause;
    }
  }
  const fields = objectFields(
    {
      ...resource,
      bucket: requireString(attributes.bucketId, source, `${field}.attributes.bucketId`),
      name: requireString(attributes.objectId, source, `${field}.attributes.objectId`),
      generation: attributes.objectGeneration ?? resource.generation,
    },
    source,
    `${field}.data`,
  );
  const time =
    optionalTime(attributes.eventTime, source, `${field}.attributes.eventTime`) ??
    optionalTime(message.publishTime, source, `${field}.publishTime`) ??
    optionalTime(message.publish_time, source, `${field}.publish_time`) ??
    fallbacks.time ??
    env.now();
  return objectEvent(kind, id, time, fields);
}

/**
 * A Cloud Storage notification delivered by an Eventarc Pub/Sub trigger (`messagePublished`).
 *
 * @example
 * ```ts
 * fromStoragePubsubCloudEvent(cloudEvent, env); // { kind: "object.created", id: "<messageId>", bucket, key, … }
 * ```
 */
export function fromStoragePubsubCloudEvent(event: unknown, env: TranslationEnv): ObjectEventData | IgnoredEvent {
  const source = "storage-pubsub";
  const ce = requireRecord(event, source, "");
  const data = requireRecord(ce.data, source, "data");
  return fromStorageNotification(
    data.message,
    "data.message",
    { id: idString(ce.id, source, "id"), time: optionalTime(ce.time, source, "time") },
    env,
  );
}

/**
 * A Cloud Storage notification delivered by a push subscription to a function registered as `http`.
 *
 * @example
 * ```ts
 * fromStoragePubsubPush(JSON.parse(requestBody), env).kind; // "object.created"
 * ```
 */
export function fromStoragePubsubPush(body: unknown, env: TranslationEnv): ObjectEventData | IgnoredEvent {
  const push = requireRecord(body, "storage-pubsub", "");
  return fromStorageNotification(push.message, "message", {}, env);
}
