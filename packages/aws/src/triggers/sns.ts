import type { MessageData } from "@sluice/core";
import { type MessageBatch, batchRecords, toBatch, translateEach } from "./batch.js";
import { nameFromArn } from "./fields.js";
import { type ObjectItem, fromS3NotificationText } from "./s3.js";
import { isS3TestEventText } from "./sqs.js";

const utf8 = new TextEncoder();

function snsRecords(event: unknown) {
  // The record keys are PascalCase ("EventSource", "Sns"), unlike every other Lambda source.
  return batchRecords("sns", event, "Records", (record) => record.child("Sns").string("MessageId"));
}

/**
 * Translates an SNS invocation for a `messages` function. `Subject` may be `null`; `MessageAttributes` are
 * `{ Type, Value }` with Number values as strings. SNS invokes Lambda asynchronously with one record, so a
 * failure fails the invocation and Lambda retries it (AWS Lambda Developer Guide, "Using Lambda with SNS").
 *
 * @example
 * ```ts
 * const { data } = fromSnsMessages(event);
 * console.log(data.name, data.messages[0]?.attributes);
 * ```
 */
export function fromSnsMessages(event: unknown): MessageBatch {
  const records = snsRecords(event);
  const topic = records[0]?.record.child("Sns").optionalString("TopicArn");
  return toBatch(
    { kind: "messages", source: "topic", name: topic ? nameFromArn(topic) : "sns", provider: "aws" },
    translateEach(records, (record) => {
      const sns = record.child("Sns");
      const text = sns.text("Message");
      if (isS3TestEventText(text)) return undefined;
      const message: MessageData = {
        id: sns.string("MessageId"),
        time: sns.isoTime("Timestamp"),
        body: utf8.encode(text),
        attributes: {},
      };
      const attributes = sns.optionalChild("MessageAttributes");
      for (const name of Object.keys(attributes?.record ?? {})) {
        const value = attributes?.child(name).optionalString("Value");
        if (value !== undefined) message.attributes[name] = value;
      }
      // FIFO topics add a group and a sequence number (SNS Developer Guide, "FIFO topics").
      const group = sns.optionalString("MessageGroupId");
      if (group !== undefined) message.group = group;
      const sequence = sns.optionalString("SequenceNumber");
      if (sequence !== undefined) message.sequence = sequence;
      return message;
    }),
  );
}

/**
 * Translates an SNS invocation whose message is an S3 notification (S3 → SNS → Lambda) for an object
 * function. An s3:TestEvent message yields one ignored item.
 *
 * @example
 * ```ts
 * const items = fromSnsObjectEvents(event).flat();
 * ```
 */
export function fromSnsObjectEvents(event: unknown): ObjectItem[][] {
  return snsRecords(event).map(({ record }) => {
    const sns = record.child("Sns");
    return fromS3NotificationText("sns", sns.text("Message"), sns.at("Message"));
  });
}
