import {
  ConfigurationError,
  type MessageLimits,
  type MessageSendFailure,
  type MessageSender,
  type MessageTarget,
  type OutgoingMessage,
} from "@sluice/core";
import { AwsMessagingError, type AwsMessagingService } from "./messaging/errors.js";
import { FIREHOSE_LIMITS, FirehoseSender, firehoseRecordSize, loadFirehoseSdk } from "./messaging/firehose.js";
import { KINESIS_HARD_LIMIT, KINESIS_LIMITS, KinesisSender, kinesisRecordSize, loadKinesisSdk } from "./messaging/kinesis.js";
import { SQS_HARD_LIMIT, SQS_LIMITS, SqsSender, loadSqsSdk, sqsMessageSize } from "./messaging/sqs.js";
import type { AwsClientLike } from "./messaging/types.js";

/**
 * The services a `stream` destination can send to on AWS.
 *
 * @example
 * ```ts
 * const streams: Record<string, AwsStreamService> = { readings: "kinesis", reports: "firehose" };
 * ```
 */
export type AwsStreamService = "firehose" | "kinesis";

/**
 * Options of {@link AwsMessaging}.
 *
 * @example
 * ```ts
 * new AwsMessaging({ streams: { readings: "kinesis" }, limits: { sqs: { maxMessageBytes: 1_048_576, maxBatchBytes: 1_048_576 } } });
 * ```
 */
export interface AwsMessagingOptions {
  /**
   * The service of each stream destination, by the destination's name: `"firehose"` (Data Firehose,
   * the default) or `"kinesis"` (Kinesis Data Streams). A Kinesis or Firehose ARN as the name needs no
   * entry. Default: `$SLUICE_KINESIS_STREAMS`, a comma-separated list of names sent to Kinesis.
   */
  streams?: Record<string, AwsStreamService>;
  /** The service of stream names that neither `streams` nor an ARN settles. Default `"firehose"`. */
  defaultStreamService?: AwsStreamService;
  /** Clients to use (any AWS SDK v3 client of the service). Default: one per service, created on its first send. */
  clients?: { sqs?: AwsClientLike; firehose?: AwsClientLike; kinesis?: AwsClientLike };
  /**
   * Configuration of the clients created on first send (`region`, `endpoint`, `credentials`,
   * `requestHandler`…), for every service. Default: the SDK's own, from the environment (`AWS_REGION`,
   * the Lambda role's credentials, `AWS_ENDPOINT_URL_SQS` and the like).
   */
  clientConfig?: Record<string, unknown>;
  /**
   * Limits to cut batches and claim checks by, per service, over the defaults (SQS 256 KiB a message
   * and a batch, 10 messages; Firehose 1,000 KiB a record, 500 records, 4 MiB; Kinesis 1 MiB a
   * record, 500 records, 5 MiB). Raise SQS to 1 MiB for queues whose `MaximumMessageSize` allows it,
   * Kinesis to 10 MiB for streams whose `MaxRecordSizeInKiB` does.
   */
  limits?: { sqs?: Partial<MessageLimits>; firehose?: Partial<MessageLimits>; kinesis?: Partial<MessageLimits> };
  /**
   * Whether a Firehose record gets a `\n` unless it ends with one. Default `true`: Firehose concatenates
   * records into the objects it writes, and JSON results then land as NDJSON. `false` sends bytes as they are.
   */
  firehoseNewline?: boolean;
}

const HARD_LIMITS: Record<AwsMessagingService, MessageLimits> = {
  sqs: { maxMessageBytes: SQS_HARD_LIMIT, maxBatchMessages: 10, maxBatchBytes: SQS_HARD_LIMIT },
  firehose: FIREHOSE_LIMITS,
  kinesis: { maxMessageBytes: KINESIS_HARD_LIMIT, maxBatchMessages: 500, maxBatchBytes: KINESIS_HARD_LIMIT },
};

function checkedLimits(service: AwsMessagingService, defaults: MessageLimits, given: Partial<MessageLimits> | undefined): MessageLimits {
  const limits = { ...defaults, ...given };
  const hard = HARD_LIMITS[service];
  for (const field of ["maxMessageBytes", "maxBatchMessages", "maxBatchBytes"] as const) {
    const value = limits[field];
    if (!Number.isSafeInteger(value) || value < 1 || value > hard[field]) {
      throw new AwsMessagingError({
        service,
        field: `limits.${service}.${field}`,
        reason: `must be an integer from 1 to ${hard[field]}, got ${value}`,
      });
    }
  }
  return limits;
}

/**
 * Stream and queue destinations on AWS: `queue` sends to SQS (SendMessageBatch), `stream` to Data
 * Firehose (PutRecordBatch) or Kinesis Data Streams (PutRecords). Each SDK is imported on the first send
 * to its service (install `@aws-sdk/client-sqs`, `-firehose`, `-kinesis` as needed; the Lambda Node.js
 * runtime provides them). Records the service refuses are reported one by one, for `sendAll` to send
 * again; nothing is dropped. SQS carries attributes (the hop count among them) and FIFO groups; Firehose
 * and Kinesis carry only bytes, so attributes are not sent there and a claim check travels wrapped in
 * `{"sluice-claim-check": …}`, which `fromFirehose` and `fromKinesis` unwrap.
 *
 * @example
 * ```ts
 * export const handler = toLambda(fn, { messaging: new AwsMessaging({ streams: { readings: "kinesis" } }) });
 * ```
 */
export class AwsMessaging implements MessageSender {
  readonly provider = "aws" as const;
  readonly #options: AwsMessagingOptions;
  readonly #streams: Record<string, AwsStreamService>;
  readonly #limits: Record<AwsMessagingService, MessageLimits>;
  readonly #newline: boolean;
  readonly #clients = new Map<AwsMessagingService, Promise<{ client: AwsClientLike; sdk: any }>>();
  readonly #sqs: SqsSender;
  readonly #firehose: FirehoseSender;
  readonly #kinesis: KinesisSender;

  constructor(options: AwsMessagingOptions = {}) {
    this.#options = options;
    this.#streams = { ...kinesisStreamsFromEnv(), ...options.streams };
    for (const [name, service] of Object.entries(this.#streams)) {
      if (service !== "firehose" && service !== "kinesis") {
        throw new ConfigurationError(`AwsMessaging: streams.${name} must be "firehose" or "kinesis", got ${JSON.stringify(service)}`);
      }
    }
    if (
      options.defaultStreamService !== undefined &&
      options.defaultStreamService !== "firehose" &&
      options.defaultStreamService !== "kinesis"
    ) {
      throw new ConfigurationError(
        `AwsMessaging: defaultStreamService must be "firehose" or "kinesis", got ${JSON.stringify(options.defaultStreamService)}`,
      );
    }
    this.#limits = {
      sqs: checkedLimits("sqs", SQS_LIMITS, options.limits?.sqs),
      firehose: checkedLimits("firehose", FIREHOSE_LIMITS, options.limits?.firehose),
      kinesis: checkedLimits("kinesis", KINESIS_LIMITS, options.limits?.kinesis),
    };
    this.#newline = options.firehoseNewline ?? true;
    this.#sqs = new SqsSender(() => this.#client("sqs"));
    this.#firehose = new FirehoseSender(() => this.#client("firehose"), this.#newline);
    this.#kinesis = new KinesisSender(() => this.#client("kinesis"));
  }

  /** The service a target goes to: SQS for queues; for streams, the `streams` option, an ARN's service, or the default. */
  service(target: MessageTarget): AwsMessagingService {
    if (target.kind === "queue") return "sqs";
    const configured = this.#streams[target.name];
    if (configured) return configured;
    if (/^arn:aws[\w-]*:kinesis:/.test(target.name)) return "kinesis";
    if (/^arn:aws[\w-]*:firehose:/.test(target.name)) return "firehose";
    return this.#options.defaultStreamService ?? "firehose";
  }

  limits(target: MessageTarget): MessageLimits {
    return this.#limits[this.service(target)];
  }

  size(target: MessageTarget, message: OutgoingMessage): number {
    switch (this.service(target)) {
      case "sqs":
        return sqsMessageSize(message);
      case "firehose":
        return firehoseRecordSize(message, this.#newline);
      case "kinesis":
        return kinesisRecordSize(message);
    }
  }

  async send(target: MessageTarget, messages: OutgoingMessage[]): Promise<{ failed: MessageSendFailure[] }> {
    const service = this.service(target);
    try {
      if (service === "sqs") return await this.#sqs.send(target.name, messages);
      if (service === "firehose") return await this.#firehose.send(target.name, messages);
      return await this.#kinesis.send(target.name, messages);
    } catch (error) {
      // A missing SDK or a queue or stream that does not exist fails every message for good: saying so
      // at once beats four attempts that cannot succeed.
      if (error instanceof AwsMessagingError) {
        return { failed: messages.map((_message, index) => ({ index, reason: error.message, retryable: false })) };
      }
      throw error;
    }
  }

  /** The service's client, created with its SDK on first use unless one was given. */
  #client(service: AwsMessagingService): Promise<{ client: AwsClientLike; sdk: any }> {
    let entry = this.#clients.get(service);
    if (!entry) {
      entry = this.#createClient(service);
      entry.catch(() => this.#clients.delete(service));
      this.#clients.set(service, entry);
    }
    return entry;
  }

  async #createClient(service: AwsMessagingService): Promise<{ client: AwsClientLike; sdk: any }> {
    const config = this.#options.clientConfig ?? {};
    if (service === "sqs") {
      const sdk = await loadSqsSdk();
      return { sdk, client: this.#options.clients?.sqs ?? new sdk.SQSClient(config) };
    }
    if (service === "firehose") {
      const sdk = await loadFirehoseSdk();
      return { sdk, client: this.#options.clients?.firehose ?? new sdk.FirehoseClient(config) };
    }
    const sdk = await loadKinesisSdk();
    return { sdk, client: this.#options.clients?.kinesis ?? new sdk.KinesisClient(config) };
  }
}

/** `SLUICE_KINESIS_STREAMS=readings,clicks`: stream names that go to Kinesis, set at deploy time. */
function kinesisStreamsFromEnv(): Record<string, AwsStreamService> {
  const streams: Record<string, AwsStreamService> = {};
  for (const name of (process.env.SLUICE_KINESIS_STREAMS ?? "").split(",")) {
    if (name.trim() !== "") streams[name.trim()] = "kinesis";
  }
  return streams;
}

export { AwsMessagingError, type AwsMessagingService } from "./messaging/errors.js";
export type { AwsClientLike } from "./messaging/types.js";
export { CLAIM_CHECK_FIELD, SQS_BODY_ENCODING_ATTRIBUTE } from "./messaging/encoding.js";
