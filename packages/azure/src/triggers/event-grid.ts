import type { ObjectEventData } from "@sluice/core";
import { blobLocationFromUrl, unquoteEtag } from "./blob-url.js";
import { type AzureSource, type Fields, describeValue, isRecord, timeOf, translationError } from "./fields.js";

/** A native event that is acknowledged without reaching the handler, and why. */
export interface SkippedEvent {
  kind: "skip";
  id?: string;
  reason: string;
}

export type ObjectTranslation = ObjectEventData | SkippedEvent;

const BOM = "\uFEFF";
const SUBSCRIPTION_VALIDATION = "Microsoft.EventGrid.SubscriptionValidationEvent";
const STORAGE_PREFIX = "Microsoft.Storage.";

/** Whether a value is one event in the Event Grid schema: only that schema has `eventType` next to `eventTime`. */
export function isEventGridSchemaEvent(value: unknown): value is Fields {
  return isRecord(value) && typeof value.eventType === "string" && "eventTime" in value && "id" in value;
}

/**
 * Whether a value is one CloudEvents 1.0 event from Azure: the spec makes `specversion` mandatory and
 * nothing else Azure sends has it; Azure's system events are typed `Microsoft.*`, which tells them from
 * another cloud's CloudEvents. Some Microsoft samples spell it `specVersion`.
 */
export function isCloudEvent(value: unknown): value is Fields {
  return (
    isRecord(value) &&
    (typeof value.specversion === "string" || typeof value.specVersion === "string") &&
    typeof value.type === "string" &&
    value.type.startsWith("Microsoft.")
  );
}

/**
 * Parses what may be a raw webhook body (a string or bytes, possibly starting with a UTF-8 BOM, which
 * `JSON.parse` rejects) or an already parsed event or array.
 */
export function parseEventGridPayload(input: unknown): unknown {
  if (typeof input !== "string" && !(input instanceof Uint8Array)) return input;
  let text = typeof input === "string" ? input : new TextDecoder().decode(input);
  if (text.startsWith(BOM)) text = text.slice(1);
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw translationError("event-grid", "", "the body is not JSON", cause);
  }
}

/**
 * Event Grid blob storage events (Event Grid schema or CloudEvents 1.0; one event or an array; an object
 * or a raw body) to neutral object events. Events that are not data (the subscription handshake, tier
 * changes, Data Lake's empty `CreateFile`) come back as {@link SkippedEvent}s, to be acknowledged.
 *
 * @see https://learn.microsoft.com/azure/event-grid/event-schema-blob-storage
 */
export function fromEventGrid(input: unknown): ObjectTranslation[] {
  const payload = parseEventGridPayload(input);
  if (Array.isArray(payload)) {
    if (payload.length === 0) throw translationError("event-grid", "", "the batch holds no events");
    return payload.flatMap((event, index) => fromOneEvent(event, `[${index}]`));
  }
  return fromOneEvent(payload, "");
}

function fromOneEvent(event: unknown, path: string): ObjectTranslation[] {
  const cloud = isCloudEvent(event);
  if (!cloud && !isEventGridSchemaEvent(event)) {
    throw translationError("event-grid", path, `is neither an Event Grid event nor a CloudEvent (got ${describeValue(event)})`);
  }
  const source: AzureSource = cloud ? "cloudevents" : "event-grid";
  const at = (field: string) => (path ? `${path}.${field}` : field);
  const record = event as Fields;
  const type = (cloud ? record.type : record.eventType) as string;
  const typeField = at(cloud ? "type" : "eventType");
  const id = typeof record.id === "string" && record.id !== "" ? record.id : undefined;

  // The handshake is answered by the Functions runtime; if one still arrives it is housekeeping, not data.
  if (type === SUBSCRIPTION_VALIDATION) return [skip(id, "Event Grid subscription validation event")];
  if (!type.startsWith(STORAGE_PREFIX)) {
    throw translationError(source, typeField, `${JSON.stringify(type)} is not a blob storage event`);
  }
  const isCreated = type === "Microsoft.Storage.BlobCreated";
  const isDeleted = type === "Microsoft.Storage.BlobDeleted";
  const isRenamed = type === "Microsoft.Storage.BlobRenamed";
  // Tier changes, directory events, policy runs: about blobs, but neither a creation nor a deletion.
  if (!isCreated && !isDeleted && !isRenamed) return [skip(id, `${type} is neither a creation nor a deletion`)];

  if (!id) throw translationError(source, at("id"), `must be a non-empty string, got ${describeValue(record.id)}`);
  const timeField = cloud ? "time" : "eventTime";
  const time = timeOf(record[timeField]);
  if (!time) throw translationError(source, at(timeField), `must be an ISO 8601 time, got ${describeValue(record[timeField])}`);
  const data = record.data;
  if (!isRecord(data)) throw translationError(source, at("data"), `must be an object, got ${describeValue(data)}`);

  // Data Lake Gen2 fires CreateFile when an empty file is created, before any data is appended; the file
  // holds its data only once FlushWithClose fires (event-schema-blob-storage, "Data Lake Storage Gen2").
  const size = data.contentLength;
  if (isCreated && data.api === "CreateFile" && (size === 0 || size === undefined || size === null)) {
    return [skip(id, "Data Lake CreateFile: the file is empty until FlushWithClose")];
  }
  // A Data Lake rename (Spark and ADF write to a temporary name, then rename) makes the object appear
  // under its new name and disappear under the old one: both are delivered, and the trigger keeps its kind.
  if (isRenamed) {
    const from = blobLocationFromUrl(data.sourceUrl, source, at("data.sourceUrl"));
    const to = blobLocationFromUrl(data.destinationUrl, source, at("data.destinationUrl"));
    const base = { id, time, provider: "azure" as const };
    return [
      { ...base, kind: "object.deleted", id: `${id}:source`, bucket: from.container, key: from.name },
      { ...base, kind: "object.created", bucket: to.container, key: to.name },
    ];
  }

  // The URL, not the subject, names the blob: samples have been seen where the two disagree.
  const location = blobLocationFromUrl(data.url, source, at("data.url"));
  const neutral: ObjectEventData = {
    kind: isCreated ? "object.created" : "object.deleted",
    id,
    time,
    bucket: location.container,
    key: location.name,
    provider: "azure",
  };
  if (size !== undefined && size !== null) {
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
      throw translationError(source, at("data.contentLength"), `must be a byte count, got ${describeValue(size)}`);
    }
    neutral.size = size;
  }
  const etag = unquoteEtag(data.eTag);
  if (etag) neutral.etag = etag;
  if (typeof data.contentType === "string" && data.contentType !== "") neutral.contentType = data.contentType;
  return [neutral];
}

function skip(id: string | undefined, reason: string): SkippedEvent {
  return id ? { kind: "skip", id, reason } : { kind: "skip", reason };
}
