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

/** Whether trigger metadata is Service Bus's: only it carries a delivery count (and a lock token) per message. */
export function isServiceBusMetadata(metadata: unknown): metadata is Fields {
  return isRecord(metadata) && ("deliveryCount" in metadata || "deliveryCountArray" in metadata) && !("dequeueCount" in metadata);
}

/**
 * Service Bus messages, one (`cardinality: "one"`) or a batch (`"many"`), to a neutral batch.
 *
 * For a batch, per-message values come from the `…Array` metadata keys. The host drops null and empty
 * strings from string arrays, so an array shorter than the batch cannot be matched to messages and is
 * not used; numeric arrays (sequence numbers, delivery counts) and dictionaries always line up.
 *
 * @see https://learn.microsoft.com/azure/azure-functions/functions-bindings-service-bus-trigger#message-metadata
 */
export function fromServiceBus(
  input: unknown,
  metadata: unknown,
  options: { source: "queue" | "topic"; name: string; now: string },
): MessagesEventData {
  if (!isServiceBusMetadata(metadata)) {
    throw translationError("service-bus", "triggerMetadata.deliveryCount", `must be present, got ${describeValue(metadata)}`);
  }
  const messages: MessageData[] = Array.isArray(input)
    ? input.map((body, index) => batchMessage(body, index, input.length, metadata, options.now))
    : [
        message(
          body(input),
          {
            messageId: metadata.messageId,
            sequenceNumber: metadata.sequenceNumber,
            deliveryCount: metadata.deliveryCount,
            enqueuedTimeUtc: metadata.enqueuedTimeUtc,
            enqueuedTime: metadata.enqueuedTime,
            applicationProperties: metadata.applicationProperties ?? metadata.userProperties,
            sessionId: metadata.sessionId,
            lockToken: metadata.lockToken,
          },
          "triggerMetadata",
          options.now,
        ),
      ];
  return { kind: "messages", source: options.source, name: options.name, messages, provider: "azure" };
}

function body(value: unknown): Uint8Array {
  return bodyBytes(value);
}

function batchMessage(value: unknown, index: number, length: number, metadata: Fields, now: string): MessageData {
  const pick = (name: string) => aligned(metadata, name, length)?.[index];
  return message(
    body(value),
    {
      messageId: pick("messageIdArray"),
      sequenceNumber: pick("sequenceNumberArray"),
      deliveryCount: pick("deliveryCountArray"),
      enqueuedTimeUtc: pick("enqueuedTimeUtcArray"),
      enqueuedTime: pick("enqueuedTimeArray"),
      applicationProperties: pick("applicationPropertiesArray") ?? pick("userPropertiesArray"),
      sessionId: pick("sessionIdArray"),
      lockToken: pick("lockTokenArray"),
    },
    `triggerMetadata[${index}]`,
    now,
  );
}

interface NativeMessage {
  messageId: unknown;
  sequenceNumber: unknown;
  deliveryCount: unknown;
  enqueuedTimeUtc: unknown;
  enqueuedTime: unknown;
  applicationProperties: unknown;
  sessionId: unknown;
  lockToken: unknown;
}

function message(bytes: Uint8Array, native: NativeMessage, path: string, now: string): MessageData {
  const sequence = idString(native.sequenceNumber);
  // A messageId above 2^53 was already rounded by the library's JSON parse: then the sequence number,
  // unique within the entity, identifies the message instead.
  const messageId =
    typeof native.messageId === "number" && !Number.isSafeInteger(native.messageId) ? undefined : idString(native.messageId);
  const id = messageId ?? (sequence === undefined ? idString(native.lockToken) : `seq-${sequence}`);
  if (!id)
    throw translationError("service-bus", `${path}.messageId`, "no message id, sequence number or lock token identifies this message");
  const data: MessageData = {
    id,
    // enqueuedTimeUtc has no zone (it is UTC); enqueuedTime carries +00:00.
    time: timeOf(native.enqueuedTimeUtc) ?? timeOf(native.enqueuedTime) ?? now,
    body: bytes,
    attributes: stringAttributes(native.applicationProperties),
  };
  if (typeof native.deliveryCount === "number" && Number.isSafeInteger(native.deliveryCount) && native.deliveryCount >= 1) {
    data.attempt = native.deliveryCount;
  }
  if (typeof native.sessionId === "string" && native.sessionId !== "") data.group = native.sessionId;
  if (sequence !== undefined) data.sequence = sequence;
  return data;
}
