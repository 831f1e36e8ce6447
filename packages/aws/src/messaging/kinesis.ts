import { createHash } from "node:crypto";
import type { MessageLimits, MessageSendFailure, OutgoingMessage } from "@sluice/core";
import { CLAIM_CHECK_ATTRIBUTE } from "@sluice/core";
import { CLAIM_CHECK_WRAPPING_BYTES, wrapClaimCheck } from "./encoding.js";
import { AwsMessagingError, loadSdk } from "./errors.js";
import type { AwsClientLike } from "./types.js";

type KinesisSdk = typeof import("@aws-sdk/client-kinesis");

/**
 * Kinesis Data Streams limits: 500 records a PutRecords call; a record counts its data and partition
 * key, 1 MiB by default (a stream's `MaxRecordSizeInKiB` can be raised to 10 MiB since 2025). A call may
 * now carry 10 MiB, but a shard takes 1 MiB a second, so the default keeps the long-standing 5 MiB
 * (and works on every stream); `limits.kinesis` raises either.
 */
export const KINESIS_LIMITS: MessageLimits = { maxMessageBytes: 1_048_576, maxBatchMessages: 500, maxBatchBytes: 5_242_880 };
/** The most Kinesis takes at all: a record and a call of 10 MiB. */
export const KINESIS_HARD_LIMIT = 10_485_760;
const MAX_KEY_CHARACTERS = 256;

/**
 * The partition key of a message: its key, or the SHA-256 of its body in hex, so that a message without
 * a key always lands on the same shard (a redelivery too) while different messages spread evenly.
 */
export function partitionKey(message: OutgoingMessage): string {
  return message.key ?? createHash("sha256").update(message.body).digest("hex");
}

/** A record's data: the body, or a claim check wrapped (Kinesis has no attributes; see `wrapClaimCheck`). */
export function kinesisData(message: OutgoingMessage): Uint8Array {
  return message.attributes[CLAIM_CHECK_ATTRIBUTE] !== undefined ? wrapClaimCheck(message.body) : message.body;
}

/** Bytes Kinesis counts for a record: data and partition key. */
export function kinesisRecordSize(message: OutgoingMessage): number {
  const data = message.body.byteLength + (message.attributes[CLAIM_CHECK_ATTRIBUTE] !== undefined ? CLAIM_CHECK_WRAPPING_BYTES : 0);
  return data + (message.key === undefined ? 64 : Buffer.byteLength(message.key));
}

/**
 * `StreamName`, and for an ARN (`arn:aws:kinesis:region:account:stream/name`) `StreamARN` too: the API
 * takes either or both, and servers that predate `StreamARN` (kinesalite) still find the stream by name.
 */
export function streamReference(name: string): { StreamName: string; StreamARN?: string } {
  const arn = /^arn:aws[\w-]*:kinesis:[^:]*:\d*:stream\/(.+)$/.exec(name);
  return arn ? { StreamName: arn[1] as string, StreamARN: name } : { StreamName: name };
}

/** Kinesis per-record codes that another attempt cannot fix (a KMS key that is disabled, missing or not allowed). */
const PERMANENT = /^KMS(Disabled|InvalidState|NotFound|OptInRequired|AccessDenied)Exception$/;

/** Sends to Kinesis Data Streams with PutRecords, reporting each record that carries an `ErrorCode`. */
export class KinesisSender {
  constructor(readonly client: () => Promise<{ client: AwsClientLike; sdk: KinesisSdk }>) {}

  async send(name: string, messages: OutgoingMessage[]): Promise<{ failed: MessageSendFailure[] }> {
    const { client, sdk } = await this.client();
    const failed: MessageSendFailure[] = [];
    const records: Array<{ Data: Uint8Array; PartitionKey: string }> = [];
    const positions: number[] = [];
    messages.forEach((message, index) => {
      const key = partitionKey(message);
      if (key.length === 0 || key.length > MAX_KEY_CHARACTERS) {
        const reason = `a partition key must have 1 to ${MAX_KEY_CHARACTERS} characters, got ${key.length}`;
        failed.push({
          index,
          reason: new AwsMessagingError({ service: "kinesis", field: "PartitionKey", reason }).message,
          retryable: false,
        });
        return;
      }
      records.push({ Data: kinesisData(message), PartitionKey: key });
      positions.push(index);
    });
    if (records.length === 0) return { failed };
    const reference = streamReference(name);
    let output: { FailedRecordCount?: number; Records?: Array<{ SequenceNumber?: string; ErrorCode?: string; ErrorMessage?: string }> };
    try {
      output = (await client.send(new sdk.PutRecordsCommand({ ...reference, Records: records }))) as typeof output;
    } catch (cause) {
      if ((cause as { name?: string })?.name === "ResourceNotFoundException") {
        throw new AwsMessagingError({
          service: "kinesis",
          field: reference.StreamARN ? "StreamARN" : "StreamName",
          reason: `stream ${JSON.stringify(name)} does not exist; give its name or ARN (or route it to Firehose with the \`streams\` option)`,
          cause,
        });
      }
      throw cause;
    }
    const results = output.Records ?? [];
    positions.forEach((index, position) => {
      const result = results[position];
      if (result?.ErrorCode) {
        failed.push({
          index,
          reason: `Kinesis ${result.ErrorCode}${result.ErrorMessage ? `: ${result.ErrorMessage}` : ""}`,
          retryable: !PERMANENT.test(result.ErrorCode),
        });
      } else if (!result?.SequenceNumber) {
        failed.push({ index, reason: "Kinesis did not answer for this record", retryable: true });
      }
    });
    return { failed: failed.sort((a, b) => a.index - b.index) };
  }
}

/** Loads the Kinesis SDK (see {@link loadSdk}). */
export const loadKinesisSdk = () => loadSdk<KinesisSdk>("kinesis");
