import type { MessageData, MessagesEventData } from "@sluice/core";
import {
  type GcpSourceName,
  type TranslationEnv,
  attributeMap,
  decodeBase64,
  idString,
  lastPathSegment,
  optionalString,
  optionalTime,
  requireRecord,
  requireString,
  translationError,
} from "./fields.js";

/** The CloudEvent type of every Pub/Sub delivery through Eventarc (and of the framework's conversions). */
export const MESSAGE_PUBLISHED_TYPE = "google.cloud.pubsub.topic.v1.messagePublished";

/**
 * A Pub/Sub message as delivered in events and push requests. Both spellings of the id and the publish
 * time are sent; the Pub/Sub emulator sends no publish time; 1st gen events have neither id nor time
 * (the framework fills them in from the event's context).
 *
 * @see https://cloud.google.com/pubsub/docs/reference/rest/v1/PubsubMessage
 * @example
 * ```ts
 * const message: PubsubMessage = { data: "eyJyb3dzIjozfQ==", attributes: { origin: "gateway" }, messageId: "17194425001187651" };
 * ```
 */
export interface PubsubMessage {
  data?: string;
  attributes?: Record<string, string> | null;
  messageId?: string;
  message_id?: string;
  publishTime?: string;
  publish_time?: string;
  orderingKey?: string;
  "@type"?: string;
}

/**
 * `google.cloud.pubsub.topic.v1.messagePublished`.
 *
 * @see https://github.com/googleapis/google-cloudevents/blob/main/proto/google/events/cloud/pubsub/v1/data.proto
 * @example
 * ```ts
 * const event = cloudEvent as MessagePublishedCloudEvent;
 * Buffer.from(event.data.message.data ?? "", "base64"); // the producer's bytes
 * ```
 */
export interface MessagePublishedCloudEvent {
  specversion: string;
  id: string;
  /** `//pubsub.googleapis.com/projects/<project>/topics/<topic>`. */
  source: string;
  type: typeof MESSAGE_PUBLISHED_TYPE;
  time?: string;
  data: { message: PubsubMessage; subscription?: string; deliveryAttempt?: number };
}

/** What the envelope around a message knows when the message itself does not say. */
export interface MessageFallbacks {
  id?: string;
  time?: string;
  /** The envelope's `deliveryAttempt` and where it was found. */
  attempt?: { value: unknown; field: string };
}

/** A delivery attempt: a positive integer, as a number or a decimal string. */
export function deliveryAttempt(value: unknown, source: GcpSourceName, field: string): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const number = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof number !== "number" || !Number.isSafeInteger(number) || number < 1) {
    throw translationError(source, field, `expected a delivery attempt >= 1, got ${JSON.stringify(value)}`);
  }
  return number;
}

/** One Pub/Sub message as neutral message data. Ids stay strings; the body is the producer's bytes. */
export function messageFromPubsub(
  value: unknown,
  source: GcpSourceName,
  field: string,
  fallbacks: MessageFallbacks,
  env: TranslationEnv,
): MessageData {
  const message = requireRecord(value, source, field);
  const id =
    idString(message.messageId, source, `${field}.messageId`) ??
    idString(message.message_id, source, `${field}.message_id`) ??
    fallbacks.id;
  const result: MessageData = {
    id: requireString(id, source, `${field}.messageId`),
    time:
      optionalTime(message.publishTime, source, `${field}.publishTime`) ??
      optionalTime(message.publish_time, source, `${field}.publish_time`) ??
      fallbacks.time ??
      env.now(),
    body: decodeBase64(message.data, source, `${field}.data`),
    attributes: attributeMap(message.attributes, source, `${field}.attributes`),
  };
  const attempt = fallbacks.attempt && deliveryAttempt(fallbacks.attempt.value, source, fallbacks.attempt.field);
  if (attempt !== undefined) result.attempt = attempt;
  const group = optionalString(message.orderingKey, source, `${field}.orderingKey`);
  if (group !== undefined) result.group = group;
  return result;
}

/**
 * Translates a `messagePublished` CloudEvent into a neutral batch of one message. The topic name comes
 * from the CloudEvent source; a raw push body converted by the framework on `/` has none, and then the
 * trigger's name stands in.
 *
 * @example
 * ```ts
 * fromPubsubCloudEvent(cloudEvent, env).messages[0].id; // "2070443601311540"
 * ```
 */
export function fromPubsubCloudEvent(event: unknown, env: TranslationEnv): MessagesEventData {
  const source = "pubsub-cloudevent";
  const ce = requireRecord(event, source, "");
  const type = requireString(ce.type, source, "type");
  if (type !== MESSAGE_PUBLISHED_TYPE) throw translationError(source, "type", `expected ${MESSAGE_PUBLISHED_TYPE}, got ${type}`);
  const data = requireRecord(ce.data, source, "data");
  const ceSource = optionalString(ce.source, source, "source");
  const message = messageFromPubsub(
    data.message,
    source,
    "data.message",
    {
      id: idString(ce.id, source, "id"),
      time: optionalTime(ce.time, source, "time"),
      attempt: { value: data.deliveryAttempt, field: "data.deliveryAttempt" },
    },
    env,
  );
  return {
    kind: "messages",
    source: "topic",
    name: lastPathSegment(ceSource, "topics") ?? env.triggerName ?? "pubsub",
    messages: [message],
    provider: "gcp",
  };
}
