import { epochToIsoTime, type MessageData } from "@sluice/core";
import { unwrapClaimCheck } from "../messaging/encoding.js";
import { type MessageBatch, batchRecords, toBatch, translateEach } from "./batch.js";
import { decodeBase64, describe, nameFromArn } from "./fields.js";
import { isCloudWatchLogsControlMessage } from "./kinesis.js";

/**
 * Translates a Data Firehose transformation invocation. The array is `records` (lower case); each
 * `recordId` must be echoed back; `approximateArrivalTimestamp` is epoch milliseconds; direct-PUT records
 * have no `kinesisRecordMetadata` (Firehose Developer Guide, "Transform source data").
 *
 * @example
 * ```ts
 * const { data } = fromFirehose(event);
 * console.log(data.name, data.messages.length);
 * ```
 */
export function fromFirehose(event: unknown): MessageBatch {
  const records = batchRecords("firehose", event, "records", (record) => record.string("recordId"));
  const arn = (event as { deliveryStreamArn?: unknown }).deliveryStreamArn;
  return toBatch(
    { kind: "messages", source: "stream", name: typeof arn === "string" && arn !== "" ? nameFromArn(arn) : "firehose", provider: "aws" },
    translateEach(records, (record) => {
      const body = decodeBase64("firehose", record.at("data"), record.record.data);
      // CloudWatch Logs → Firehose sends the same control messages as to Kinesis; they are dropped.
      if (isCloudWatchLogsControlMessage(body)) return undefined;
      const arrival = record.record.approximateArrivalTimestamp;
      const time = epochToIsoTime(arrival, "ms");
      if (!time) throw record.fail("approximateArrivalTimestamp", `must be epoch milliseconds, got ${describe(arrival)}`);
      // A claim check sent by AwsMessaging travels wrapped, Firehose having no attributes: unwrap it for the runtime.
      const claimCheck = unwrapClaimCheck(body);
      const message: MessageData = claimCheck
        ? { id: record.string("recordId"), time, body: claimCheck.body, attributes: claimCheck.attributes }
        : { id: record.string("recordId"), time, body, attributes: {} };
      const metadata = record.optionalChild("kinesisRecordMetadata");
      if (metadata) {
        const partitionKey = metadata.optionalString("partitionKey");
        if (partitionKey !== undefined) message.group = partitionKey;
        const sequence = metadata.optionalString("sequenceNumber");
        if (sequence !== undefined) message.sequence = sequence;
        const shard = metadata.optionalString("shardId");
        if (shard !== undefined) message.attributes.shardId = shard;
      }
      return message;
    }),
  );
}
