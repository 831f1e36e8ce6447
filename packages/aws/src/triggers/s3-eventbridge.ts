import type { ObjectEventData } from "@sluice/core";
import { FieldReader } from "./fields.js";
import { type ObjectItem, optionalSize, unquote } from "./s3.js";

/**
 * `detail-type`s that create or remove an object (S3 User Guide, "EventBridge event message structure").
 * `Object Restore Completed`, `Object Storage Class Changed`, `Object Tags Added`… are not creations:
 * the object already existed.
 */
const KINDS: Record<string, ObjectEventData["kind"]> = {
  "Object Created": "object.created",
  "Object Deleted": "object.deleted",
};

/**
 * Translates an S3 event delivered by EventBridge. Its fields differ from a notification's: `etag` in
 * lower case, `version-id` with a hyphen, a time without milliseconds, and an event `id` of its own.
 * The key is taken as given: every documented and captured sample shows it unencoded (see the README).
 *
 * @example
 * ```ts
 * const [item] = fromS3EventBridge(event);
 * if ("event" in item) console.log(item.event.key, item.event.version);
 * ```
 */
export function fromS3EventBridge(event: unknown): ObjectItem[] {
  const root = FieldReader.of("s3-eventbridge", event, "");
  const detailType = root.string("detail-type");
  const kind = KINDS[detailType];
  if (!kind) return [{ ignored: `S3 ${detailType} through EventBridge is neither a creation nor a deletion` }];
  const detail = root.child("detail");
  const object = detail.child("object");
  const data: ObjectEventData = {
    kind,
    id: root.string("id"),
    time: root.isoTime("time"),
    bucket: detail.child("bucket").string("name"),
    key: object.string("key"),
    provider: "aws",
  };
  const size = optionalSize(object, "size");
  if (size !== undefined) data.size = size;
  const etag = object.optionalString("etag");
  if (etag !== undefined) data.etag = unquote(etag);
  const version = object.optionalString("version-id");
  if (version !== undefined) data.version = version;
  return [{ event: data }];
}
