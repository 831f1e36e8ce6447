import type { ObjectEventData } from "@sluice/core";
import { type GcpSourceName, idString, optionalCount, optionalString, requireRecord, requireString } from "./fields.js";

/**
 * The fields of a Cloud Storage object resource (JSON API `storage#object`) that a neutral object event
 * needs. Everything else in the resource (links, hashes, storage class) is ignored on purpose: links
 * percent-encode `/` inconsistently between payloads, so the key comes from `name` only.
 *
 * @see https://cloud.google.com/storage/docs/json_api/v1/objects#resource
 */
export function objectFields(
  resource: unknown,
  source: GcpSourceName,
  field: string,
  fallbackBucket?: string,
): Pick<ObjectEventData, "bucket" | "key" | "size" | "etag" | "contentType" | "version"> {
  const data = requireRecord(resource, source, field);
  const fields: Pick<ObjectEventData, "bucket" | "key" | "size" | "etag" | "contentType" | "version"> = {
    bucket: requireString(data.bucket ?? fallbackBucket, source, `${field}.bucket`),
    // The name exactly as stored: no URL decoding and no Unicode normalisation (real names mix NFC and NFD).
    key: requireString(data.name, source, `${field}.name`),
  };
  const size = optionalCount(data.size, source, `${field}.size`);
  if (size !== undefined) fields.size = size;
  const etag = optionalString(data.etag, source, `${field}.etag`);
  if (etag !== undefined) fields.etag = etag.replace(/^"|"$/g, "");
  const contentType = optionalString(data.contentType, source, `${field}.contentType`);
  if (contentType !== undefined) fields.contentType = contentType;
  // generation is the object version; it arrives as a string or a number and is kept as a string.
  const version = idString(data.generation, source, `${field}.generation`);
  if (version !== undefined) fields.version = version;
  return fields;
}

/** The neutral event in the field order every translator uses, so whole results compare with `toStrictEqual`. */
export function objectEvent(
  kind: ObjectEventData["kind"],
  id: string,
  time: string,
  fields: Pick<ObjectEventData, "bucket" | "key" | "size" | "etag" | "contentType" | "version">,
): ObjectEventData {
  return { kind, id, time, ...fields, provider: "gcp" };
}
