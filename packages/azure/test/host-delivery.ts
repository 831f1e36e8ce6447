import type { ReceivedEvent } from "../../../tools/emulators/src/index.js";

/**
 * What the Functions host and `@azure/functions` 4.16.5 hand a handler, built from what a server really
 * holds, so that end-to-end tests go through the same quirks as on Azure (see test/fixtures/README.md):
 * bodies become UTF-8 strings and every string that parses as JSON arrives parsed (`tryJsonParse`); times
 * come as .NET writes them.
 */
export function libraryValue(bytes: Uint8Array): unknown {
  const text = new TextDecoder().decode(bytes);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `2026-11-23T14:05:02+00:00`: a queue message's times, whole seconds with an offset. */
function dotnetOffsetTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}+00:00`;
}

/** `2026-11-23T14:05:00.812`: Event Hubs' `enqueuedTimeUtc`, no zone, trailing zeros dropped. */
function dotnetUtcTime(date: Date): string {
  return date
    .toISOString()
    .slice(0, 23)
    .replace(/\.?0+$/, "");
}

/** A dequeued Storage Queue message as the Azure SDK returns it. */
export interface DequeuedMessage {
  messageId: string;
  messageText: string;
  dequeueCount: number;
  insertedOn: Date;
  expiresOn: Date;
  nextVisibleOn: Date;
  popReceipt: string;
}

/**
 * The arguments of an `app.storageQueue` handler for one message: the host base64-decodes the text
 * (host.json `messageEncoding: "base64"`, the default), reads the bytes as UTF-8, and the library parses JSON.
 */
export function storageQueueInvocation(message: DequeuedMessage, encoding: "base64" | "none" = "base64") {
  const bytes = encoding === "base64" ? Buffer.from(message.messageText, "base64") : Buffer.from(message.messageText, "utf8");
  const input = libraryValue(bytes);
  return {
    input,
    triggerMetadata: {
      queueTrigger: input,
      dequeueCount: message.dequeueCount,
      expirationTime: dotnetOffsetTime(message.expiresOn),
      id: message.messageId,
      insertionTime: dotnetOffsetTime(message.insertedOn),
      nextVisibleTime: dotnetOffsetTime(message.nextVisibleOn),
      popReceipt: message.popReceipt,
    },
  };
}

/**
 * The arguments of an `app.eventHub` handler with `cardinality: "many"` for events of one partition: the
 * bodies as the library parsed them, and the `…Array` metadata, with `partitionKeyArray` losing the
 * events that have no key (so it does not line up with the batch) and offsets as numbers.
 */
export function eventHubsInvocation(events: ReceivedEvent[], context: { namespace: string; eventHubName: string }) {
  const partitionContext = {
    fullyQualifiedNamespace: context.namespace,
    eventHubName: context.eventHubName,
    consumerGroup: "$Default",
    partitionId: events[0]?.partitionId ?? "0",
    isCheckpointingAfterInvocation: true,
  };
  return {
    input: events.map((event) => libraryValue(event.body)),
    triggerMetadata: {
      triggerPartitionContext: partitionContext,
      partitionContext,
      partitionKeyArray: events.flatMap((event) => (event.partitionKey === undefined ? [] : [event.partitionKey])),
      offsetArray: events.map((event) => event.offset),
      offsetStringArray: events.map((event) => event.offset),
      sequenceNumberArray: events.map((event) => event.sequenceNumber),
      enqueuedTimeUtcArray: events.map((event) => dotnetUtcTime(event.enqueuedTime)),
      propertiesArray: events.map((event) => ({ ...event.properties })),
      systemPropertiesArray: events.map((event) => {
        const system: Record<string, unknown> = {
          "x-opt-sequence-number": event.sequenceNumber,
          "x-opt-offset": event.offset,
          "x-opt-enqueued-time": `${dotnetUtcTime(event.enqueuedTime)}+00:00`,
        };
        if (event.partitionKey !== undefined) system["x-opt-partition-key"] = event.partitionKey;
        return {
          ...system,
          sequenceNumber: event.sequenceNumber,
          offset: event.offset,
          offsetString: String(event.offset),
          partitionKey: event.partitionKey ?? null,
          enqueuedTimeUtc: dotnetUtcTime(event.enqueuedTime),
        };
      }),
    },
  };
}
