import { ConfigurationError, SluiceError, type ProviderName } from "./errors.js";

/**
 * Where a stream or queue destination sends: the destination's kind and name, as the function defines
 * them. Each provider maps them to its services (AWS: Firehose or Kinesis, SQS; GCP: Pub/Sub; Azure:
 * Event Hubs, Storage Queue).
 */
export interface MessageTarget {
  kind: "stream" | "queue";
  name: string;
}

/** One message on its way out, serialized. */
export interface OutgoingMessage {
  body: Uint8Array;
  /** String attributes (SQS message attributes, Pub/Sub attributes, Event Hubs application properties). */
  attributes: Record<string, string>;
  /**
   * Partition key (Kinesis, Event Hubs), ordering key (Pub/Sub) or message group id (SQS FIFO). Messages
   * with the same key keep their order where the service orders by key.
   */
  key?: string;
  /** A stable identity for deduplication where the service offers it (SQS FIFO's deduplication id). */
  id?: string;
}

/** The service's limits for one target, so that batches and claim checks are cut before the service refuses them. */
export interface MessageLimits {
  /** Largest single message, as {@link MessageSender.size} counts it. */
  maxMessageBytes: number;
  /** Most messages in one send. */
  maxBatchMessages: number;
  /** Largest batch, summed with {@link MessageSender.size}. */
  maxBatchBytes: number;
}

/** What became of one message of a send that did not go through. */
export interface MessageSendFailure {
  /** Index of the message in the batch handed to {@link MessageSender.send}. */
  index: number;
  /** The service's code or message, for logs and the final error. */
  reason: string;
  /** `false` when sending it again cannot help (for example, the service refused it as too large). */
  retryable: boolean;
}

/**
 * A provider's way of sending messages: the one piece of I/O that stream and queue destinations need.
 * `send` reports the messages that the service refused (Firehose `FailedPutCount`, Kinesis
 * `FailedRecordCount`, SQS `Failed` entries) instead of throwing; it throws only when the whole call
 * failed, which the runtime treats as every message having failed, retryably.
 */
export interface MessageSender {
  readonly provider: ProviderName;
  limits(target: MessageTarget): MessageLimits;
  /** How many bytes the service counts for a message. Default: body, attribute names and values, and key. */
  size?(target: MessageTarget, message: OutgoingMessage): number;
  send(target: MessageTarget, messages: OutgoingMessage[]): Promise<{ failed: MessageSendFailure[] }>;
}

/** The attribute under which a message carries its hop count (the object form is metadata `sluice-hops`). */
export const HOPS_ATTRIBUTE = "sluice-hops";
/** The attribute that marks a message whose body is a claim check (a pointer to an object) instead of the payload. */
export const CLAIM_CHECK_ATTRIBUTE = "sluice-claim-check";

/** The body of a claim-check message. */
export interface ClaimCheck {
  provider: ProviderName;
  bucket: string;
  key: string;
  size: number;
  contentType?: string;
}

/** Thrown when messages could not be sent after every retry: the event is retried by its platform. */
export class MessageDeliveryError extends SluiceError {
  readonly target: MessageTarget;
  readonly failures: Array<{ index: number; reason: string }>;
  constructor(
    provider: ProviderName,
    target: MessageTarget,
    total: number,
    failures: Array<{ index: number; reason: string }>,
    options?: { cause?: unknown },
  ) {
    const sample = failures
      .slice(0, 3)
      .map((failure) => `#${failure.index}: ${failure.reason}`)
      .join("; ");
    super(
      "MESSAGE_DELIVERY",
      `${provider}: ${failures.length} of ${total} messages to ${target.kind} ${target.name} were not accepted (${sample}${failures.length > 3 ? "; …" : ""})`,
      options,
    );
    this.name = "MessageDeliveryError";
    this.target = target;
    this.failures = failures;
  }
}

const encoder = new TextEncoder();

/** Bytes of a message's payload: strings as UTF-8, bytes as they are, anything else as compact JSON. */
export function messageBody(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return encoder.encode(value);
  const json = JSON.stringify(value);
  if (json === undefined) throw new SluiceError("BAD_MESSAGE", `a message cannot be made of ${typeof value}`);
  return encoder.encode(json);
}

/** The default size a service counts: body, attribute names and values, key. */
export function defaultMessageSize(message: OutgoingMessage): number {
  let size = message.body.byteLength;
  for (const name in message.attributes) size += utf8Length(name) + utf8Length(message.attributes[name] as string);
  if (message.key !== undefined) size += utf8Length(message.key);
  return size;
}

function utf8Length(text: string): number {
  // ASCII is the common case for names and keys; only count the long way when there is more.
  for (let index = 0; index < text.length; index++) if (text.charCodeAt(index) > 0x7f) return encoder.encode(text).byteLength;
  return text.length;
}

/**
 * Cuts messages into batches that respect the target's limits, in order. A message over
 * `maxMessageBytes` must have been claim-checked before; one here is a configuration error.
 */
export function planBatches(messages: OutgoingMessage[], limits: MessageLimits, size: (message: OutgoingMessage) => number): number[][] {
  const batches: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  for (let index = 0; index < messages.length; index++) {
    const messageSize = size(messages[index] as OutgoingMessage);
    if (messageSize > limits.maxMessageBytes || messageSize > limits.maxBatchBytes) {
      throw new ConfigurationError(`message ${index} is ${messageSize} bytes, over the limit of ${limits.maxMessageBytes}`);
    }
    if (current.length > 0 && (current.length >= limits.maxBatchMessages || bytes + messageSize > limits.maxBatchBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(index);
    bytes += messageSize;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

export interface SendAllOptions {
  /** Attempts per message, the first included. Default 4. */
  attempts?: number;
  /** First back-off in milliseconds, doubled each retry with jitter. Default 100. */
  backoffMs?: number;
  /** Stop retrying when this returns fewer milliseconds than the next back-off. */
  remainingMs?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Sends every message, in batches within the limits, and sends again exactly the messages the service
 * refused (never the accepted ones), with exponential back-off. Once a message with a key is refused,
 * the later messages with that key wait for the next attempt instead of overtaking it. Throws {@link MessageDeliveryError}
 * naming those still refused after the last attempt: nothing is dropped silently.
 *
 * @example
 * ```ts
 * await sendAll(sender, { kind: "stream", name: "readings" }, [{ body, attributes: {} }]);
 * ```
 */
export async function sendAll(
  sender: MessageSender,
  target: MessageTarget,
  messages: OutgoingMessage[],
  options: SendAllOptions = {},
): Promise<void> {
  if (messages.length === 0) return;
  const limits = sender.limits(target);
  for (const field of ["maxMessageBytes", "maxBatchMessages", "maxBatchBytes"] as const) {
    // A limit from a mistyped option or an unset variable (NaN, 0, a string) would otherwise cut no
    // batches at all, and the service would refuse what it was sent.
    if (!Number.isSafeInteger(limits[field]) || limits[field] < 1) {
      throw new ConfigurationError(
        `${sender.provider} messaging: limits.${field} for ${target.kind} ${target.name} must be a positive integer, got ${String(limits[field])}`,
      );
    }
  }
  const size = (message: OutgoingMessage) => (sender.size ? sender.size(target, message) : defaultMessageSize(message));
  const attempts = Math.max(1, options.attempts ?? 4);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let pending = messages.map((_message, index) => index);
  let lastReasons = new Map<number, string>();
  // A sender that throws a ConfigurationError (a missing SDK, a topic name the service cannot have, no
  // project or credentials) cannot succeed on another attempt: it is not retried, and it is the cause of
  // the MessageDeliveryError, so that the provider's typed error is not lost.
  let configurationError: ConfigurationError | undefined;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const subset = pending.map((index) => messages[index] as OutgoingMessage);
    const refused: number[] = [];
    const reasons = new Map<number, string>();
    let permanent = false;
    // Keys with a refused message in this attempt: their later messages wait for the next attempt, so
    // that a key's messages still arrive in order when a later batch would have gone through.
    const heldKeys = new Set<string>();
    for (const plannedBatch of planBatches(subset, limits, size)) {
      const batch: number[] = [];
      for (const position of plannedBatch) {
        const key = (subset[position] as OutgoingMessage).key;
        if (key === undefined || !heldKeys.has(key)) {
          batch.push(position);
          continue;
        }
        const original = pending[position] as number;
        refused.push(original);
        reasons.set(original, `held back: an earlier message with key ${JSON.stringify(key)} was refused`);
      }
      if (batch.length === 0) continue;
      const batchMessages = batch.map((position) => subset[position] as OutgoingMessage);
      let failed: MessageSendFailure[];
      try {
        ({ failed } = await sender.send(target, batchMessages));
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        const retryable = !(error instanceof ConfigurationError);
        if (!retryable) configurationError = error as ConfigurationError;
        failed = batch.map((_position, index) => ({ index, reason, retryable }));
      }
      const seen = new Set<number>();
      for (const failure of failed) {
        if (!Number.isInteger(failure.index) || failure.index < 0 || failure.index >= batch.length) {
          throw new SluiceError(
            "BAD_SENDER",
            `${sender.provider} sender reported a refusal of message ${failure.index} in a batch of ${batch.length}: it cannot be matched to a message`,
          );
        }
        // A sender that names one message twice must not make it be sent twice.
        if (seen.has(failure.index)) continue;
        seen.add(failure.index);
        const original = pending[batch[failure.index] as number] as number;
        refused.push(original);
        reasons.set(original, failure.reason);
        if (!failure.retryable) permanent = true;
        const key = batchMessages[failure.index]?.key;
        if (key !== undefined) heldKeys.add(key);
      }
    }
    lastReasons = reasons;
    pending = refused.sort((a, b) => a - b);
    if (pending.length === 0) return;
    const backoff = (options.backoffMs ?? 100) * 2 ** (attempt - 1) * (0.5 + Math.random() / 2);
    if (permanent || attempt >= attempts || (options.remainingMs && options.remainingMs() < backoff)) break;
    await sleep(backoff);
  }
  throw new MessageDeliveryError(
    sender.provider,
    target,
    messages.length,
    pending.map((index) => ({ index, reason: lastReasons.get(index) ?? "refused" })),
    configurationError ? { cause: configurationError } : undefined,
  );
}
