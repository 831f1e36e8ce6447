import { gunzipSync } from "node:zlib";
import { epochToIsoTime, type MessageData } from "@sluice/core";
import { unwrapClaimCheck } from "../messaging/encoding.js";
import { type MessageBatch, batchRecords, toBatch, translateEach } from "./batch.js";
import { decodeBase64, describe, isRecord, nameFromArn } from "./fields.js";

function kinesisRecords(event: unknown) {
  // The sequence number is what batchItemFailures names (AWS Lambda Developer Guide, "Kinesis partial batch response").
  return batchRecords("kinesis", event, "Records", (record) => record.child("kinesis").string("sequenceNumber"));
}

/**
 * Translates a Kinesis Data Streams batch. `data` is base64; `sequenceNumber` has 56 digits and stays a
 * string; `approximateArrivalTimestamp` is epoch seconds with a fraction (unlike Firehose's milliseconds).
 * A CloudWatch Logs subscription's `CONTROL_MESSAGE` (a gzip health check) is skipped; its `DATA_MESSAGE`s
 * are delivered as the producer wrote them, still gzip.
 *
 * @example
 * ```ts
 * const { data } = fromKinesis(event);
 * console.log(data.messages.map((message) => message.sequence));
 * ```
 */
export function fromKinesis(event: unknown): MessageBatch {
  const records = kinesisRecords(event);
  const arn = records[0]?.record.optionalString("eventSourceARN");
  return toBatch(
    { kind: "messages", source: "stream", name: arn ? nameFromArn(arn) : "kinesis", provider: "aws" },
    translateEach(records, (record) => {
      const kinesis = record.child("kinesis");
      const body = decodeBase64("kinesis", kinesis.at("data"), kinesis.record.data);
      if (isCloudWatchLogsControlMessage(body)) return undefined;
      const arrival = kinesis.record.approximateArrivalTimestamp;
      const time = epochToIsoTime(arrival, "s");
      if (!time) throw kinesis.fail("approximateArrivalTimestamp", `must be epoch seconds, got ${describe(arrival)}`);
      const sequence = kinesis.string("sequenceNumber");
      // A claim check sent by AwsMessaging travels wrapped, Kinesis having no attributes: unwrap it for the runtime.
      const claimCheck = unwrapClaimCheck(body);
      const message: MessageData = claimCheck
        ? { id: sequence, time, body: claimCheck.body, attributes: claimCheck.attributes, sequence }
        : { id: sequence, time, body, attributes: {}, sequence };
      const partitionKey = kinesis.optionalString("partitionKey");
      if (partitionKey !== undefined) message.group = partitionKey;
      const shard = record.optionalString("eventID")?.split(":")[0];
      if (shard) message.attributes.shardId = shard;
      return message;
    }),
  );
}

/**
 * Whether bytes are a CloudWatch Logs subscription's control message: gzip JSON with
 * `messageType: "CONTROL_MESSAGE"`, sent to check the destination (CloudWatch Logs User Guide, "Subscription filters").
 */
export function isCloudWatchLogsControlMessage(bytes: Uint8Array): boolean {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return false;
  try {
    const parsed: unknown = JSON.parse(gunzipSync(bytes).toString("utf8"));
    return isRecord(parsed) && parsed.messageType === "CONTROL_MESSAGE";
  } catch {
    return false;
  }
}
