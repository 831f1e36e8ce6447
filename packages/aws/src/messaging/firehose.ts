import type { MessageLimits, MessageSendFailure, OutgoingMessage } from "@sluice/core";
import { CLAIM_CHECK_ATTRIBUTE } from "@sluice/core";
import { CLAIM_CHECK_WRAPPING_BYTES, wrapClaimCheck } from "./encoding.js";
import { AwsMessagingError, loadSdk } from "./errors.js";
import type { AwsClientLike } from "./types.js";

type FirehoseSdk = typeof import("@aws-sdk/client-firehose");

/**
 * Data Firehose limits: 1,000 KiB a record (before base64), 500 records and 4 MiB a PutRecordBatch call;
 * "these limits cannot be changed" (Firehose API Reference, PutRecordBatch).
 */
export const FIREHOSE_LIMITS: MessageLimits = { maxMessageBytes: 1_024_000, maxBatchMessages: 500, maxBatchBytes: 4_194_304 };

const NEWLINE = 0x0a;

/**
 * A record's bytes as Firehose gets them. Firehose concatenates records into the objects it writes, so
 * with `newline` a record gets a `\n` unless it already ends with one: JSON results then land as NDJSON.
 * A claim check travels wrapped (Firehose has no attributes; see `wrapClaimCheck`).
 */
export function firehoseData(message: OutgoingMessage, newline: boolean): Uint8Array {
  const body = message.attributes[CLAIM_CHECK_ATTRIBUTE] !== undefined ? wrapClaimCheck(message.body) : message.body;
  if (!newline || body[body.byteLength - 1] === NEWLINE) return body;
  const data = new Uint8Array(body.byteLength + 1);
  data.set(body, 0);
  data[body.byteLength] = NEWLINE;
  return data;
}

/** Bytes Firehose counts for a record: the data only (attributes and keys are not sent). */
export function firehoseRecordSize(message: OutgoingMessage, newline: boolean): number {
  const body = message.body.byteLength + (message.attributes[CLAIM_CHECK_ATTRIBUTE] !== undefined ? CLAIM_CHECK_WRAPPING_BYTES : 0);
  return body + (newline && message.body[message.body.byteLength - 1] !== NEWLINE ? 1 : 0);
}

/** The delivery stream's name: a name as given, or the part after `deliverystream/` of an ARN. */
export function deliveryStreamName(name: string): string {
  const arn = /^arn:aws[\w-]*:firehose:[^:]*:\d*:deliverystream\/(.+)$/.exec(name);
  return arn ? (arn[1] as string) : name;
}

/** Sends to Data Firehose with PutRecordBatch, reporting each record that `RequestResponses` marks with an `ErrorCode`. */
export class FirehoseSender {
  constructor(
    readonly client: () => Promise<{ client: AwsClientLike; sdk: FirehoseSdk }>,
    readonly newline: boolean,
  ) {}

  async send(name: string, messages: OutgoingMessage[]): Promise<{ failed: MessageSendFailure[] }> {
    const { client, sdk } = await this.client();
    const streamName = deliveryStreamName(name);
    let output: { FailedPutCount?: number; RequestResponses?: Array<{ RecordId?: string; ErrorCode?: string; ErrorMessage?: string }> };
    try {
      output = (await client.send(
        new sdk.PutRecordBatchCommand({
          DeliveryStreamName: streamName,
          Records: messages.map((message) => ({ Data: firehoseData(message, this.newline) })),
        }),
      )) as typeof output;
    } catch (cause) {
      if ((cause as { name?: string })?.name === "ResourceNotFoundException") {
        throw new AwsMessagingError({
          service: "firehose",
          field: "DeliveryStreamName",
          reason: `delivery stream ${JSON.stringify(streamName)} does not exist; give its name or ARN (or route it to Kinesis with the \`streams\` option)`,
          cause,
        });
      }
      throw cause;
    }
    const responses = output.RequestResponses ?? [];
    const failed: MessageSendFailure[] = [];
    for (let index = 0; index < messages.length; index++) {
      const response = responses[index];
      if (response?.ErrorCode) {
        failed.push({
          index,
          reason: `Firehose ${response.ErrorCode}${response.ErrorMessage ? `: ${response.ErrorMessage}` : ""}`,
          retryable: true,
        });
      } else if (!response?.RecordId) {
        // No id and no error: the record was not confirmed, so it is sent again rather than assumed written.
        failed.push({ index, reason: "Firehose did not answer for this record", retryable: true });
      }
    }
    return { failed };
  }
}

/** Loads the Firehose SDK (see {@link loadSdk}). */
export const loadFirehoseSdk = () => loadSdk<FirehoseSdk>("firehose");
