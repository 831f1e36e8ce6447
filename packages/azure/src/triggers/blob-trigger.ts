import type { ObjectEventData } from "@sluice/core";
import { blobLocationFromUrl, unquoteEtag } from "./blob-url.js";
import { type Fields, describeValue, isRecord, timeOf, translationError } from "./fields.js";

/** Whether trigger metadata is the blob trigger's: only its binding data carries `blobTrigger` (the `container/name` path). */
export function isBlobTriggerMetadata(metadata: unknown): metadata is Fields {
  return isRecord(metadata) && typeof metadata.blobTrigger === "string";
}

/**
 * The blob trigger's invocation (`app.storageBlob`, polling or `source: "EventGrid"`: both give the same
 * binding data) to a neutral `object.created` event. The blob's bytes in `input` are not kept: readers
 * stream the blob from the store, like on every other provider.
 *
 * The blob trigger has no event id; the id is built from the blob and its version (ETag where the
 * extension keeps it, else the last-modified time), which is also what the host's blob receipts key on.
 *
 * @see https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-blob-trigger#metadata
 */
export function fromBlobTrigger(metadata: unknown, now: string): ObjectEventData {
  if (!isBlobTriggerMetadata(metadata)) {
    throw translationError("blob-trigger", "triggerMetadata.blobTrigger", `must be the blob's path, got ${describeValue(metadata)}`);
  }
  // `uri` is percent-encoded and names the blob exactly; `blobTrigger` is "container/name" raw, which is
  // ambiguous only if it is all there is.
  const location =
    metadata.uri !== undefined && metadata.uri !== null
      ? blobLocationFromUrl(metadata.uri, "blob-trigger", "triggerMetadata.uri")
      : fromTriggerPath(metadata.blobTrigger as string);
  const properties = isRecord(metadata.properties) ? metadata.properties : {};
  // Extension 5.x serialises the .NET ETag struct as `{}`; 4.x gives it quoted. Only a string is usable.
  const etag = unquoteEtag(properties.eTag ?? properties.etag);
  const lastModified = timeOf(properties.lastModified);
  // 5.x names the size contentLength, 4.x length.
  const size = properties.contentLength ?? properties.length;
  const event: ObjectEventData = {
    kind: "object.created",
    id: `${location.container}/${location.name}@${etag ?? lastModified ?? now}`,
    time: lastModified ?? now,
    bucket: location.container,
    key: location.name,
    provider: "azure",
  };
  if (typeof size === "number" && Number.isSafeInteger(size) && size >= 0) event.size = size;
  if (etag) event.etag = etag;
  if (typeof properties.contentType === "string" && properties.contentType !== "") event.contentType = properties.contentType;
  const version = properties.versionId;
  if (typeof version === "string" && version !== "") event.version = version;
  return event;
}

function fromTriggerPath(path: string): { container: string; name: string } {
  const slash = path.indexOf("/");
  if (slash <= 0 || slash === path.length - 1) {
    throw translationError("blob-trigger", "triggerMetadata.blobTrigger", `must be "container/name", got ${describeValue(path)}`);
  }
  return { container: path.slice(0, slash), name: path.slice(slash + 1) };
}
