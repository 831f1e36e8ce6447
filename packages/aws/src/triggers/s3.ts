import { type ObjectEventData, normalizeIsoTime } from "@sluice/core";
import { FieldReader, describe, isRecord, translationError } from "./fields.js";

/**
 * One record of a native object event: a neutral event, or why it is acknowledged without running.
 *
 * @example
 * ```ts
 * for (const item of fromS3Notification(event)) if ("ignored" in item) console.log("skipped:", item.ignored);
 * ```
 */
export type ObjectItem = { event: ObjectEventData } | { ignored: string };

/**
 * Decodes an S3 notification key: `+` means a space, then percent-escapes are UTF-8 bytes. `"red flower.jpg"`
 * arrives as `"red+flower.jpg"` and a literal `+` as `%2B` (S3 User Guide, "Event message structure");
 * `decodeURIComponent` alone would keep the `+`. Throws `URIError` on a broken escape.
 *
 * @example
 * ```ts
 * decodeS3Key("Caf%C3%A9+Nord%2BS%C3%BCd.csv"); // "Café Nord+Süd.csv"
 * ```
 */
export function decodeS3Key(raw: string): string {
  const spaced = raw.includes("+") ? raw.replaceAll("+", " ") : raw;
  return spaced.includes("%") ? decodeURIComponent(spaced) : spaced;
}

/**
 * Event names that mean the object is gone. `LifecycleExpiration:Delete` and `:DeleteMarkerCreated` are
 * deletions without the `ObjectRemoved:` prefix (S3 User Guide, "Supported event types").
 */
const DELETED = /^(ObjectRemoved:|LifecycleExpiration:(Delete|DeleteMarkerCreated)$)/;

/**
 * Translates one S3 event notification (`{ Records: [...] }` with `eventSource: "aws:s3"`), as S3 sends it
 * to Lambda or inside an SQS or SNS envelope. Restores, transitions, tagging and ACL changes are ignored:
 * the object already existed, so they are never creations.
 *
 * @param path where this notification sits in the native payload, for error messages
 * @example
 * ```ts
 * const items = fromS3Notification(event);
 * for (const item of items) if ("event" in item) console.log(item.event.kind, item.event.key);
 * ```
 */
export function fromS3Notification(event: unknown, path = ""): ObjectItem[] {
  const root = FieldReader.of("s3", event, path);
  const records = root.array("Records");
  const items: ObjectItem[] = new Array(records.length);
  for (let index = 0; index < records.length; index++) {
    items[index] = fastS3Record(records[index]) ?? fromS3Record(root.item("Records", index, records[index]));
  }
  return items;
}

/** An optional string field as S3 sends it: absent, `null` and `""` are "not given"; `false` means "not a string". */
function optional(value: unknown): string | undefined | false {
  return value === undefined || value === null || value === "" ? undefined : typeof value === "string" ? value : false;
}

/**
 * The translation of a well-formed record with plain property reads, or `undefined` for anything it does
 * not recognise: {@link fromS3Record} then translates it again with a {@link FieldReader}, which says which
 * field is wrong and why. Both give the same event for the same record (tested on every fixture and on
 * mutated ones); this one skips the five readers per record that only an error needs (measured: about a
 * third of translating a record).
 */
export function fastS3Record(value: unknown): ObjectItem | undefined {
  if (!isRecord(value) || value.eventSource !== "aws:s3") return undefined;
  const eventVersion = optional(value.eventVersion);
  if (eventVersion === false || (eventVersion !== undefined && !eventVersion.startsWith("2."))) return undefined;
  const eventName = value.eventName;
  if (typeof eventName !== "string" || eventName === "") return undefined;
  const kind = eventName.startsWith("ObjectCreated:") ? "object.created" : DELETED.test(eventName) ? "object.deleted" : undefined;
  if (!kind) return { ignored: `S3 ${eventName} is neither a creation nor a deletion` };
  const s3 = value.s3;
  if (!isRecord(s3) || !isRecord(s3.bucket) || !isRecord(s3.object)) return undefined;
  const bucket = s3.bucket.name;
  const object = s3.object;
  const rawKey = object.key;
  if (typeof bucket !== "string" || bucket === "" || typeof rawKey !== "string" || rawKey === "") return undefined;
  let key: string;
  try {
    key = decodeS3Key(rawKey);
  } catch {
    return undefined;
  }
  const time = normalizeIsoTime(value.eventTime);
  const sequencer = optional(object.sequencer);
  const etag = optional(object.eTag);
  const version = optional(object.versionId);
  const size = object.size === undefined || object.size === null ? undefined : object.size;
  if (time === undefined || sequencer === false || etag === false || version === false) return undefined;
  if (size !== undefined && (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0)) return undefined;
  const data: ObjectEventData = { kind, id: `${bucket}/${key}@${sequencer ?? time}`, time, bucket, key, provider: "aws" };
  if (size !== undefined) data.size = size;
  if (etag !== undefined) data.etag = unquote(etag);
  if (version !== undefined) data.version = version;
  return { event: data };
}

/** One record through the {@link FieldReader} path alone: what {@link fastS3Record} must agree with (tests). */
export function s3RecordThroughReaders(value: unknown): ObjectItem {
  return fromS3Record(FieldReader.of("s3", value, "Records[0]"));
}

function fromS3Record(record: FieldReader): ObjectItem {
  if (record.record.eventSource !== "aws:s3") {
    throw record.fail("eventSource", `must be "aws:s3", got ${describe(record.record.eventSource)}`);
  }
  const eventVersion = record.optionalString("eventVersion");
  // Only the major version changes the shape (2.0 from s3rver, 2.1 for most events, 2.3 for lifecycle, 2.4+).
  if (eventVersion !== undefined && !eventVersion.startsWith("2.")) {
    throw record.fail("eventVersion", `major version 2 is supported, got ${describe(eventVersion)}`);
  }
  const eventName = record.string("eventName");
  const kind = eventName.startsWith("ObjectCreated:") ? "object.created" : DELETED.test(eventName) ? "object.deleted" : undefined;
  if (!kind) return { ignored: `S3 ${eventName} is neither a creation nor a deletion` };

  const s3 = record.child("s3");
  const bucket = s3.child("bucket").string("name");
  const object = s3.child("object");
  const rawKey = object.string("key");
  let key: string;
  try {
    key = decodeS3Key(rawKey);
  } catch (cause) {
    throw object.fail("key", `is not a valid URL-encoded key: ${describe(rawKey)}`, cause);
  }
  const time = record.isoTime("eventTime");
  const sequencer = object.optionalString("sequencer");
  const data: ObjectEventData = {
    kind,
    // S3 notifications carry no event id; the sequencer orders events per key, so bucket + key + sequencer
    // is the same on every redelivery of one event and differs between two events on one key.
    id: `${bucket}/${key}@${sequencer ?? time}`,
    time,
    bucket,
    key,
    provider: "aws",
  };
  const size = optionalSize(object, "size");
  if (size !== undefined) data.size = size;
  const etag = object.optionalString("eTag");
  if (etag !== undefined) data.etag = unquote(etag);
  // Unversioned buckets omit versionId; "" is treated the same (SEMANTICS: version absent when none).
  const version = object.optionalString("versionId");
  if (version !== undefined) data.version = version;
  return { event: data };
}

/** A byte count: a non-negative safe integer (a numeric string is accepted; SEMANTICS: liberal). */
export function optionalSize(reader: FieldReader, field: string): number | undefined {
  const value = reader.record[field];
  if (value === undefined || value === null) return undefined;
  const size = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw reader.fail(field, `must be a non-negative integer, got ${describe(value)}`);
  }
  return size;
}

export function unquote(etag: string): string {
  return etag.startsWith('"') || etag.endsWith('"') ? etag.replace(/^"|"$/g, "") : etag;
}

/**
 * Whether a payload is the `s3:TestEvent` that S3 sends once when a notification configuration is saved
 * (S3 User Guide, "Event message structure", test message). It carries no object and is acknowledged.
 *
 * @example
 * ```ts
 * isS3TestEvent({ Service: "Amazon S3", Event: "s3:TestEvent", Bucket: "sensor-raw" }); // true
 * ```
 */
export function isS3TestEvent(value: unknown): boolean {
  return isRecord(value) && value.Service === "Amazon S3" && value.Event === "s3:TestEvent";
}

/**
 * Translates the text of an SQS body or SNS message that should hold an S3 notification: the notification
 * itself, the s3:TestEvent (no items), or, for SNS into SQS without raw delivery, an SNS envelope around
 * either (JSON inside JSON).
 */
export function fromS3NotificationText(source: string, text: string, path: string): ObjectItem[] {
  const parsed = parseJson(source, text, path);
  if (isS3TestEvent(parsed)) return [{ ignored: "s3:TestEvent" }];
  if (isRecord(parsed) && parsed.Type === "Notification" && typeof parsed.Message === "string" && "TopicArn" in parsed) {
    return fromS3NotificationText("sns", parsed.Message, `${path}(json).Message`);
  }
  if (!isRecord(parsed) || !Array.isArray(parsed.Records)) {
    throw translationError(source, path, "does not hold an S3 notification (no Records array)");
  }
  return fromS3Notification(parsed, `${path}(json)`);
}

function parseJson(source: string, text: string, path: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw translationError(source, path, "is not JSON, so it cannot hold an S3 notification", cause);
  }
}
