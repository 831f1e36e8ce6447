import type { MessageData, MessagesEventData } from "@sluice/core";
import {
  type Fields,
  aligned,
  bodyBytes,
  describeValue,
  idString,
  isRecord,
  stringAttributes,
  timeOf,
  translationError,
} from "./fields.js";

/** Whether trigger metadata is Event Hubs': only it carries a partition context (or per-event offsets). */
export function isEventHubsMetadata(metadata: unknown): metadata is Fields {
  return (
    isRecord(metadata) &&
    (isRecord(metadata.partitionContext) || isRecord(metadata.triggerPartitionContext) || Array.isArray(metadata.offsetArray))
  );
}

/**
 * An Event Hubs batch (`cardinality: "many"`) to a neutral batch. Per-event values come from
 * `systemPropertiesArray[i]`, which always lines up with the batch, then from the top-level arrays when
 * they do (`partitionKeyArray` loses null keys, so it often does not). Sequence numbers and offsets stay
 * strings, exactly, whether they arrive as numbers, strings or `Long`-like objects.
 *
 * @see https://learn.microsoft.com/azure/azure-functions/functions-bindings-event-hubs-trigger#event-metadata
 */
export function fromEventHubs(input: unknown, metadata: unknown, options: { name: string; now: string }): MessagesEventData {
  if (!isEventHubsMetadata(metadata)) {
    throw translationError("event-hubs", "triggerMetadata.partitionContext", `must be present, got ${describeValue(metadata)}`);
  }
  const batch = Array.isArray(input);
  const events = batch ? input : [input];
  const context = isRecord(metadata.triggerPartitionContext)
    ? metadata.triggerPartitionContext
    : isRecord(metadata.partitionContext)
      ? metadata.partitionContext
      : {};
  const partition = idString(context.partitionId);
  const length = events.length;
  // With cardinality "one" (registered by hand) the same values come without the `Array` suffix.
  const system = batch ? aligned(metadata, "systemPropertiesArray", length) : [metadata.systemProperties ?? metadata];
  const top = (name: string, index: number) => (batch ? aligned(metadata, name, length)?.[index] : metadata[name.replace(/Array$/, "")]);
  const messages = events.map((event, index): MessageData => {
    const own: Fields = isRecord(system?.[index]) ? (system?.[index] as Fields) : {};
    const sequence = idString(own.sequenceNumber ?? own["x-opt-sequence-number"] ?? top("sequenceNumberArray", index));
    const offset = idString(
      own.offsetString ?? own.offset ?? own["x-opt-offset"] ?? top("offsetStringArray", index) ?? top("offsetArray", index),
    );
    if (sequence === undefined && offset === undefined) {
      throw translationError(
        "event-hubs",
        `triggerMetadata.sequenceNumberArray[${index}]`,
        "no sequence number or offset identifies this event",
      );
    }
    const position = sequence === undefined ? `offset-${offset}` : sequence;
    const data: MessageData = {
      id: partition === undefined ? position : `${partition}:${position}`,
      time:
        timeOf(own.enqueuedTimeUtc) ??
        timeOf(own["x-opt-enqueued-time"]) ??
        timeOf(top("enqueuedTimeUtcArray", index)) ??
        timeOf(top("enqueuedTimeArray", index)) ??
        options.now,
      body: bodyBytes(event),
      attributes: stringAttributes(top("propertiesArray", index)),
    };
    const partitionKey = "partitionKey" in own ? own.partitionKey : (own["x-opt-partition-key"] ?? top("partitionKeyArray", index));
    if (typeof partitionKey === "string" && partitionKey !== "") data.group = partitionKey;
    if (sequence !== undefined) data.sequence = sequence;
    return data;
  });
  return { kind: "messages", source: "stream", name: options.name, messages, provider: "azure" };
}
