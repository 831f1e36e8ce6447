import type { MessageData, MessagesEventData } from "@sluice/core";
import { openQueueEnvelope } from "../queue-envelope.js";
import { type Fields, bodyBytes, describeValue, idString, isRecord, timeOf, translationError } from "./fields.js";

/** Whether trigger metadata is a Storage Queue message's: only it has `dequeueCount` and a `popReceipt`. */
export function isStorageQueueMetadata(metadata: unknown): metadata is Fields {
  return isRecord(metadata) && "dequeueCount" in metadata && "popReceipt" in metadata;
}

/**
 * One Storage Queue message (the trigger always delivers one) to a neutral batch of one. The host has
 * already removed the base64 transport encoding; the library has JSON-parsed a JSON body, which is
 * serialised back. A message Sluice wrote as an envelope (attributes, a claim check, bytes that are not
 * UTF-8: see `queue-envelope.ts`) gives back the producer's exact bytes and attributes.
 *
 * @see https://learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue-trigger#message-metadata
 */
export function fromStorageQueue(input: unknown, metadata: unknown, options: { name: string; now: string }): MessagesEventData {
  if (!isStorageQueueMetadata(metadata)) {
    throw translationError("storage-queue", "triggerMetadata.dequeueCount", `must be present, got ${describeValue(metadata)}`);
  }
  const id = idString(metadata.id);
  if (!id) throw translationError("storage-queue", "triggerMetadata.id", `must be the message id, got ${describeValue(metadata.id)}`);
  const envelope = openQueueEnvelope(input);
  const message: MessageData = {
    id,
    time: timeOf(metadata.insertionTime) ?? options.now,
    body: envelope ? envelope.body : bodyBytes(input),
    attributes: envelope ? envelope.attributes : {},
  };
  const attempt = metadata.dequeueCount;
  if (typeof attempt === "number" && Number.isSafeInteger(attempt) && attempt >= 1) message.attempt = attempt;
  return { kind: "messages", source: "queue", name: options.name, messages: [message], provider: "azure" };
}
