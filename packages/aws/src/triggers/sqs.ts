import { epochToIsoTime, type EventTranslationError, type MessageData } from "@sluice/core";
import { type MessageBatch, batchRecords, toBatch, translateEach } from "./batch.js";
import { SQS_BODY_ENCODING_ATTRIBUTE, fromSqsBody } from "../messaging/encoding.js";
import { type FieldReader, describe, isRecord, nameFromArn } from "./fields.js";
import { type ObjectItem, fromS3NotificationText, isS3TestEvent } from "./s3.js";

const utf8 = new TextEncoder();

function sqsRecords(event: unknown) {
  return batchRecords("sqs", event, "Records", (record) => record.string("messageId"));
}

/**
 * Translates an SQS batch for a `messages` function. Every SQS attribute is a string: `SentTimestamp` is
 * epoch milliseconds, `ApproximateReceiveCount` the attempt, and a FIFO `SequenceNumber` has 20 digits, more
 * than a JavaScript number holds, so it stays a string (AWS Lambda Developer Guide, "Using Lambda with
 * Amazon SQS"). A message that cannot be translated is rejected alone; an s3:TestEvent body is skipped.
 *
 * @example
 * ```ts
 * const { data, rejected } = fromSqsMessages(event);
 * console.log(data.messages.map((message) => message.id), rejected.map((item) => item.id));
 * ```
 */
export function fromSqsMessages(event: unknown): MessageBatch {
  const records = sqsRecords(event);
  const arn = records[0]?.record.optionalString("eventSourceARN");
  return toBatch(
    { kind: "messages", source: "queue", name: arn ? nameFromArn(arn) : "sqs", provider: "aws" },
    translateEach(records, fromSqsRecord),
  );
}

function fromSqsRecord(record: FieldReader): MessageData | undefined {
  const body = record.text("body");
  if (isS3TestEventText(body)) return undefined;
  const attributes = record.child("attributes");
  const sent = attributes.record.SentTimestamp;
  const time = epochToIsoTime(sent, "ms");
  if (!time) throw attributes.fail("SentTimestamp", `must be epoch milliseconds, got ${describe(sent)}`);
  const envelope = snsEnvelope(body);
  const messageAttributes = envelope ? envelope.attributes : sqsMessageAttributes(record);
  // A body SQS could not carry as it is (binary, characters SQS refuses) was sent as base64 by AwsMessaging.
  const encoding = messageAttributes[SQS_BODY_ENCODING_ATTRIBUTE];
  if (encoding !== undefined) {
    if (encoding !== "base64")
      throw record.fail(`messageAttributes.${SQS_BODY_ENCODING_ATTRIBUTE}`, `must be "base64", got ${describe(encoding)}`);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(envelope ? envelope.message : body)) throw record.fail("body", "is marked base64 but is not base64");
    delete messageAttributes[SQS_BODY_ENCODING_ATTRIBUTE];
  }
  const message: MessageData = {
    id: record.string("messageId"),
    time,
    // SNS into SQS without raw delivery wraps the producer's message in an SNS envelope: the body the
    // producer sent is its `Message`, and its attributes are the envelope's.
    body:
      encoding === undefined ? utf8.encode(envelope ? envelope.message : body) : fromSqsBody(envelope ? envelope.message : body, encoding),
    attributes: messageAttributes,
  };
  const count = attributes.optionalString("ApproximateReceiveCount");
  if (count !== undefined) {
    if (!/^[1-9]\d*$/.test(count)) throw attributes.fail("ApproximateReceiveCount", `must be a positive integer, got ${describe(count)}`);
    message.attempt = Number(count);
  }
  const group = attributes.optionalString("MessageGroupId");
  if (group !== undefined) message.group = group;
  const sequence = attributes.optionalString("SequenceNumber");
  if (sequence !== undefined) message.sequence = sequence;
  return message;
}

/** String and Number attributes by their `stringValue`; Binary ones as their base64 `binaryValue`. */
function sqsMessageAttributes(record: FieldReader): Record<string, string> {
  const attributes: Record<string, string> = {};
  const map = record.optionalChild("messageAttributes");
  if (!map) return attributes;
  for (const name of Object.keys(map.record)) {
    const attribute = map.child(name);
    const value = String(attribute.record.dataType ?? "").startsWith("Binary")
      ? attribute.optionalString("binaryValue")
      : attribute.optionalString("stringValue");
    if (value !== undefined) attributes[name] = value;
  }
  return attributes;
}

/**
 * One SQS message's S3 events, or why that message alone cannot be translated.
 *
 * @example
 * ```ts
 * const failed = fromSqsObjectEvents(event).filter((message) => "error" in message).map((message) => message.id);
 * ```
 */
export type SqsObjectMessage = { id: string; value: ObjectItem[] } | { id: string; error: EventTranslationError };

/**
 * Translates an SQS batch whose bodies are S3 notifications (S3 → SQS, S3 → SNS → SQS with or without raw
 * message delivery) for an object function: each message maps to its S3 records, so a failure can be
 * reported with that message's id in `batchItemFailures`.
 *
 * @example
 * ```ts
 * for (const message of fromSqsObjectEvents(event)) console.log(message.id, "error" in message ? message.error : message.value);
 * ```
 */
export function fromSqsObjectEvents(event: unknown): SqsObjectMessage[] {
  return translateEach(sqsRecords(event), (record) => fromS3NotificationText("sqs", record.text("body"), record.at("body")));
}

/** A cheap look before parsing: only bodies that mention the test event are parsed to check. */
export function isS3TestEventText(text: string): boolean {
  if (!text.includes("s3:TestEvent")) return false;
  try {
    const parsed: unknown = JSON.parse(text);
    if (isS3TestEvent(parsed)) return true;
    // SNS into SQS without raw delivery wraps the test event in an SNS envelope.
    return isRecord(parsed) && typeof parsed.Message === "string" && isS3TestEventText(parsed.Message);
  } catch {
    return false;
  }
}

/**
 * The SNS envelope an SQS body holds when a queue subscribes to a topic without raw message delivery
 * (`Type: "Notification"`, `TopicArn`, `Message`; URL fields spelled `SigningCertURL` here, unlike SNS → Lambda).
 */
function snsEnvelope(body: string): { message: string; attributes: Record<string, string> } | undefined {
  if (!body.includes('"TopicArn"') || !body.includes('"Notification"')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed) || parsed.Type !== "Notification" || typeof parsed.Message !== "string" || typeof parsed.TopicArn !== "string") {
    return undefined;
  }
  const attributes: Record<string, string> = {};
  if (isRecord(parsed.MessageAttributes)) {
    for (const [name, attribute] of Object.entries(parsed.MessageAttributes)) {
      if (isRecord(attribute) && typeof attribute.Value === "string") attributes[name] = attribute.Value;
    }
  }
  return { message: parsed.Message, attributes };
}
