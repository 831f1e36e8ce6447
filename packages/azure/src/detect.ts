import { isBlobTriggerMetadata } from "./triggers/blob-trigger.js";
import { isCloudEvent, isEventGridSchemaEvent } from "./triggers/event-grid.js";
import { isEventHubsMetadata } from "./triggers/event-hubs.js";
import type { AzureSource } from "./triggers/fields.js";
import { isHttpRequest } from "./triggers/http.js";
import { isServiceBusMetadata } from "./triggers/service-bus.js";
import { isStorageQueueMetadata } from "./triggers/storage-queue.js";
import { isTimerInput } from "./triggers/timer.js";

/** One rule: the native source, and the test that tells it apart from the handler's two arguments. */
export interface DetectionRule {
  source: Exclude<AzureSource, "unknown">;
  matches(input: unknown, triggerMetadata: unknown): boolean;
}

const first = (input: unknown) => (Array.isArray(input) ? input[0] : input);

/** `app.eventGrid` binding data holds `data` and nothing else (the library sets none for HTTP and timers). */
const noTriggerMetadataBeyondData = (metadata: unknown) =>
  metadata === undefined || metadata === null || (typeof metadata === "object" && Object.keys(metadata).every((key) => key === "data"));

/**
 * Every native source. The rules exclude each other (the detection matrix test proves it on every
 * fixture), so their order does not matter; a queue or Service Bus message whose body is an Event Grid
 * event is recognised as the message it is, by its metadata.
 */
export const DETECTION_RULES: readonly DetectionRule[] = [
  // Only the blob trigger's binding data holds `blobTrigger`, the "container/name" it matched.
  { source: "blob-trigger", matches: (_input, metadata) => isBlobTriggerMetadata(metadata) },
  // Only a Storage Queue message has a `popReceipt` and a `dequeueCount`.
  { source: "storage-queue", matches: (_input, metadata) => isStorageQueueMetadata(metadata) },
  // Only Service Bus counts deliveries per message (`deliveryCount`, or `deliveryCountArray` for a batch).
  { source: "service-bus", matches: (_input, metadata) => isServiceBusMetadata(metadata) },
  // Only Event Hubs passes a partition context (or per-event offsets).
  { source: "event-hubs", matches: (_input, metadata) => isEventHubsMetadata(metadata) },
  // Only the timer's `Timer` has a boolean `isPastDue`.
  { source: "timer", matches: (input) => isTimerInput(input) },
  // Only the HTTP trigger passes a request with a URL, a method and a `Headers` object.
  { source: "http", matches: (input) => isHttpRequest(input) },
  // CloudEvents 1.0 makes `specversion` mandatory; Azure's are typed Microsoft.*; a queue's metadata means a queued copy.
  { source: "cloudevents", matches: (input, metadata) => isCloudEvent(first(input)) && noTriggerMetadataBeyondData(metadata) },
  // Only the Event Grid schema puts `eventType` next to `eventTime`; a queue's metadata means a queued copy.
  { source: "event-grid", matches: (input, metadata) => isEventGridSchemaEvent(first(input)) && noTriggerMetadataBeyondData(metadata) },
];

/** The native source of a handler's arguments, or `"unknown"`. */
export function detectSource(input: unknown, triggerMetadata: unknown): AzureSource {
  for (const rule of DETECTION_RULES) if (rule.matches(input, triggerMetadata)) return rule.source;
  return "unknown";
}
