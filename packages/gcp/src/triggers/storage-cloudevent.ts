import type { ObjectEventData } from "@sluice/core";
import {
  type IgnoredEvent,
  type TranslationEnv,
  isRecord,
  optionalString,
  optionalTime,
  requireRecord,
  requireString,
  translationError,
} from "./fields.js";
import { objectEvent, objectFields } from "./storage-object.js";

/** Eventarc's Cloud Storage event types all start with this. */
export const STORAGE_EVENT_TYPE_PREFIX = "google.cloud.storage.object.v1.";

/**
 * A Cloud Storage CloudEvent as the Functions Framework hands it over (structured or binary mode).
 *
 * @example
 * ```ts
 * const event = cloudEvent as StorageCloudEvent;
 * event.data.name; // the object key, exactly as stored
 * ```
 * @see https://cloud.google.com/eventarc/docs/reference/supported-events#cloud-storage
 * @see https://github.com/googleapis/google-cloudevents/blob/main/proto/google/events/cloud/storage/v1/events.proto
 */
export interface StorageCloudEvent {
  specversion: string;
  id: string;
  source: string;
  type: `google.cloud.storage.object.v1.${"finalized" | "deleted" | "archived" | "metadataUpdated"}`;
  subject?: string;
  time?: string;
  /** An extension attribute Eventarc sets on some deliveries. */
  bucket?: string;
  data: StorageObjectData;
}

/**
 * The JSON API object resource, as it appears in events (numbers may be strings).
 *
 * @see https://cloud.google.com/storage/docs/json_api/v1/objects#resource
 * @example
 * ```ts
 * const data: StorageObjectData = { bucket: "sensor-raw", name: "readings/a.ndjson", size: "234", generation: "1795442700123456" };
 * ```
 */
export interface StorageObjectData {
  bucket: string;
  name: string;
  generation?: string | number;
  metageneration?: string | number;
  size?: string | number;
  etag?: string;
  contentType?: string;
  timeCreated?: string;
  updated?: string;
  timeDeleted?: string;
  /** Only in 1st gen `object.change` events, kept by the framework's conversion. */
  resourceState?: "exists" | "not_exists";
  [field: string]: unknown;
}

/**
 * What each storage event means to a Sluice function:
 * - `finalized`: an object (generation) was created — the only creation.
 * - `deleted`: the object is gone (permanently deleted, or overwritten in a bucket without versioning).
 * - `archived`: in a versioned bucket the live generation became noncurrent; that is what a delete (or
 *   an overwrite) of the live object looks like there, and Cloud Storage sends no `deleted` for it. The
 *   object is no longer readable under its key, so it is an `object.deleted` of that generation.
 * - `metadataUpdated`: the bytes did not change. Like a storage-class change on other clouds it is
 *   neither a creation nor a deletion: acknowledged without running the handler.
 */
export function storageKindOf(suffix: string): ObjectEventData["kind"] | "ignored" | undefined {
  switch (suffix) {
    case "finalized":
      return "object.created";
    case "deleted":
    case "archived":
      return "object.deleted";
    case "metadataUpdated":
      return "ignored";
    default:
      return undefined;
  }
}

/**
 * Translates an Eventarc Cloud Storage CloudEvent into a neutral object event (or an ignored one).
 * The key is `data.name`; `time` is the CloudEvent time, rounded down to milliseconds.
 *
 * @example
 * ```ts
 * fromStorageCloudEvent(cloudEvent, env); // { kind: "object.created", id, time, bucket, key, size, etag, contentType, version, provider: "gcp" }
 * ```
 */
export function fromStorageCloudEvent(event: unknown, env: TranslationEnv): ObjectEventData | IgnoredEvent {
  const source = "storage-cloudevent";
  const ce = requireRecord(event, source, "");
  const type = requireString(ce.type, source, "type");
  if (!type.startsWith(STORAGE_EVENT_TYPE_PREFIX)) throw translationError(source, "type", `not a Cloud Storage event type: ${type}`);
  const kind = storageKindOf(type.slice(STORAGE_EVENT_TYPE_PREFIX.length));
  if (kind === undefined) throw translationError(source, "type", `unknown Cloud Storage event type ${type}`);
  const id = requireString(ce.id, source, "id");
  if (kind === "ignored") return { kind, id, reason: `${type} changes no object's bytes` };
  const data = requireRecord(ce.data, source, "data");
  const fields = objectFields(data, source, "data", optionalString(ce.bucket, source, "bucket"));
  return objectEvent(kind, id, eventTime(ce, data, kind, source, env), fields);
}

/** The CloudEvent's time; without one, the object's own time for the change; without that, now. */
export function eventTime(
  ce: Record<string, unknown>,
  data: Record<string, unknown>,
  kind: ObjectEventData["kind"],
  source: "storage-cloudevent" | "storage-legacy",
  env: TranslationEnv,
): string {
  return (
    optionalTime(ce.time, source, "time") ??
    (kind === "object.deleted"
      ? optionalTime(data.timeDeleted, source, "data.timeDeleted")
      : optionalTime(isRecord(data) ? data.updated : undefined, source, "data.updated")) ??
    env.now()
  );
}
