import type { ObjectEventData } from "@sluice/core";
import { STORAGE_EVENT_TYPE_PREFIX, eventTime, storageKindOf } from "./storage-cloudevent.js";
import { type IgnoredEvent, type TranslationEnv, optionalString, requireRecord, requireString, translationError } from "./fields.js";
import { objectEvent, objectFields } from "./storage-object.js";

/**
 * Translates a 1st gen Cloud Storage background event **as the Functions Framework converted it** to a
 * CloudEvent. The framework maps the legacy `providers/cloud.storage/eventTypes/object.change` type to
 * `google.cloud.storage.object.v1.finalized` even when the object was deleted; only
 * `data.resourceState: "not_exists"` (and `timeDeleted`) still says so. A deletion must never reach a
 * handler as a creation, so the resource state wins over the type.
 *
 * @see https://cloud.google.com/functions/docs/calling/storage#legacy_cloud_storage_triggers
 * @example
 * ```ts
 * fromStorageLegacyCloudEvent(convertedEvent, env).kind; // "object.deleted" for resourceState "not_exists"
 * ```
 */
export function fromStorageLegacyCloudEvent(event: unknown, env: TranslationEnv): ObjectEventData | IgnoredEvent {
  const source = "storage-legacy";
  const ce = requireRecord(event, source, "");
  const type = requireString(ce.type, source, "type");
  if (!type.startsWith(STORAGE_EVENT_TYPE_PREFIX)) throw translationError(source, "type", `not a Cloud Storage event type: ${type}`);
  const id = requireString(ce.id, source, "id");
  const data = requireRecord(ce.data, source, "data");
  const state = optionalString(data.resourceState, source, "data.resourceState");
  if (state !== undefined && state !== "exists" && state !== "not_exists") {
    throw translationError(source, "data.resourceState", `expected "exists" or "not_exists", got ${JSON.stringify(state)}`);
  }
  const byType = storageKindOf(type.slice(STORAGE_EVENT_TYPE_PREFIX.length));
  if (byType === undefined) throw translationError(source, "type", `unknown Cloud Storage event type ${type}`);
  const deleted = state === "not_exists" || (byType === "object.created" && data.timeDeleted !== undefined && data.timeDeleted !== null);
  const kind = deleted ? "object.deleted" : byType;
  if (kind === "ignored") return { kind, id, reason: `${type} changes no object's bytes` };
  const fields = objectFields(data, source, "data");
  return objectEvent(kind, id, eventTime(ce, data, kind, source, env), fields);
}
