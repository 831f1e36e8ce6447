import { randomInt, randomUUID } from "node:crypto";

/**
 * The `google.cloud.storage.object.v1.finalized` CloudEvent Eventarc would send for an object, in binary
 * content mode (ce-* headers, the object's metadata as the body), built from the object's real metadata.
 */
export function finalizedCloudEventRequest(
  bucket: string,
  metadata: { name?: string; timeCreated?: string },
): { headers: Record<string, string>; body: string } {
  return {
    headers: {
      "content-type": "application/json",
      "ce-specversion": "1.0",
      "ce-id": String(randomInt(2 ** 47)),
      "ce-source": `//storage.googleapis.com/projects/_/buckets/${bucket}`,
      "ce-type": "google.cloud.storage.object.v1.finalized",
      "ce-subject": `objects/${metadata.name}`,
      "ce-time": String(metadata.timeCreated),
    },
    body: JSON.stringify(metadata),
  };
}

/**
 * The Event Grid `Microsoft.Storage.BlobCreated` event for a blob, built from its real properties (Azurite
 * emits no events), with the `triggerMetadata` that `@azure/functions` hands the handler alongside it.
 */
export function blobCreatedEvent(blob: {
  account: string;
  container: string;
  name: string;
  url: string;
  properties: { etag?: string; contentType?: string; contentLength?: number; lastModified?: Date };
  requestId?: string;
  sequencer?: string;
}): { event: Record<string, unknown>; triggerMetadata: { data: Record<string, unknown> } } {
  const data = {
    api: "PutBlob",
    requestId: blob.requestId ?? randomUUID(),
    eTag: blob.properties.etag,
    contentType: blob.properties.contentType,
    contentLength: blob.properties.contentLength,
    blobType: "BlockBlob",
    url: blob.url,
    // Event Grid's sequencer orders events per blob: a hex counter is its shape.
    sequencer: blob.sequencer ?? "00000000000000000000000000000001000000000000001a",
  };
  const event = {
    topic: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/sluice/providers/Microsoft.Storage/storageAccounts/${blob.account}`,
    subject: `/blobServices/default/containers/${blob.container}/blobs/${blob.name}`,
    eventType: "Microsoft.Storage.BlobCreated",
    // Event Grid writes seven fractional digits.
    eventTime: (blob.properties.lastModified ?? new Date()).toISOString().replace("Z", "0000Z"),
    id: randomUUID(),
    data,
    dataVersion: "",
    metadataVersion: "1",
  };
  return { event, triggerMetadata: { data } };
}
