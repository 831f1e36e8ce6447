/** The event types Cloud Storage publishes to a notification's topic. */
export type StorageNotificationEventType = "OBJECT_FINALIZE" | "OBJECT_DELETE" | "OBJECT_ARCHIVE" | "OBJECT_METADATA_UPDATE";

/** A Pub/Sub message as a publish request carries it (`data` in base64). */
export interface PublishedMessage {
  data: string;
  attributes: Record<string, string>;
}

/**
 * The Pub/Sub message Cloud Storage publishes for an object change with a `JSON_API_V1` notification
 * configuration (https://cloud.google.com/storage/docs/pubsub-notifications): the data is the object's
 * JSON API resource, and the attributes name the event, bucket, object, generation and event time. The
 * Cloud Storage emulator publishes no notifications, so tests build this from the emulator's own object
 * metadata and publish it to the Pub/Sub emulator, as Cloud Storage would.
 *
 * @example
 * ```ts
 * const [metadata] = await storage.bucket("in").file("a.txt").getMetadata();
 * const message = storageNotification("OBJECT_FINALIZE", metadata);
 * await fetch(`${pubsub.url}/v1/projects/p/topics/t:publish`, { method: "POST", body: JSON.stringify({ messages: [message] }) });
 * ```
 */
export function storageNotification(
  eventType: StorageNotificationEventType,
  resource: {
    bucket?: string;
    name?: string;
    generation?: string | number;
    timeCreated?: string;
    updated?: string;
    [field: string]: unknown;
  },
  options: { notificationConfigId?: string; eventTime?: string; overwroteGeneration?: string; overwrittenByGeneration?: string } = {},
): PublishedMessage {
  if (typeof resource.bucket !== "string" || typeof resource.name !== "string") throw new Error("an object resource needs bucket and name");
  // Cloud Storage's eventTime has microseconds; the resource's times have milliseconds.
  const when =
    options.eventTime ??
    (eventType === "OBJECT_FINALIZE"
      ? resource.timeCreated
      : eventType === "OBJECT_METADATA_UPDATE"
        ? resource.updated
        : new Date().toISOString());
  const attributes: Record<string, string> = {
    notificationConfig: `projects/_/buckets/${resource.bucket}/notificationConfigs/${options.notificationConfigId ?? "1"}`,
    eventType,
    payloadFormat: "JSON_API_V1",
    bucketId: resource.bucket,
    objectId: resource.name,
    objectGeneration: String(resource.generation ?? "1"),
    eventTime: String(when ?? new Date().toISOString()).replace(
      /(\.\d{3})?Z$/,
      (_match, millis: string | undefined) => `${millis ?? ".000"}123Z`,
    ),
  };
  if (options.overwroteGeneration) attributes.overwroteGeneration = options.overwroteGeneration;
  if (options.overwrittenByGeneration) attributes.overwrittenByGeneration = options.overwrittenByGeneration;
  return { data: Buffer.from(`${JSON.stringify({ kind: "storage#object", ...resource }, null, 2)}\n`).toString("base64"), attributes };
}
