import { ConfigurationError, type ProviderName, type SerializedError } from "./errors.js";
import type { Context } from "./context.js";
import type { NeutralEventData } from "./events.js";
import type { ObjectBody } from "./store.js";

/** What a destination's key function and a custom destination receive. */
export interface DestinationArgs<E, R> {
  event: E;
  result: R;
}

/**
 * The event as a destination's key function sees it when its type is not spelled out: the fields of
 * every kind, optional. (TypeScript cannot infer the trigger's event type through the factory call,
 * so `destinations.objectStore<DestinationArgs<ObjectEventData, Report>>(…)` gives exact types.)
 */
export interface DestinationEvent {
  kind: NeutralEventData["kind"];
  id?: string;
  time?: string;
  provider: ProviderName;
  bucket?: string;
  key?: string;
  size?: number;
  etag?: string;
  version?: string;
  contentType?: string;
  method?: string;
  path?: string;
  schedule?: string;
  name?: string;
  source?: string;
  payload?: unknown;
}

/** What a key function gets by default: the event, and the result (as `destination`) or the failures (as `onFailure`). */
export interface DefaultKeyArgs {
  event: DestinationEvent;
  result?: any;
  failures?: FailureRecord[];
}

/** One thing that failed: the whole event, one line of it, or one message. */
export interface FailureRecord {
  error: SerializedError;
  /** 1-based line number in the input object. */
  line?: number;
  /** The raw input that failed (a line, a message body as text). */
  raw?: string;
  /** The id of the failed message, for message batches. */
  messageId?: string;
  data?: unknown;
}

/** What `onFailure` receives: the event (as plain data) and every failure of this invocation. */
export interface FailureReport<E = unknown> {
  function: string;
  provider: ProviderName;
  invocationId: string;
  /** ISO 8601 UTC: when the failures were reported. */
  time: string;
  event: E;
  failures: FailureRecord[];
}

export interface ObjectStoreDestinationOptions<A> {
  bucket: string;
  /** The output's key, derived from the input's identity so that a redelivered event rewrites the same output. */
  key: (args: A) => string;
  /** Content type of what is written; chosen from the result when omitted. */
  contentType?: string;
}

/** Writes through the running provider's object store. */
export interface ObjectStoreDestination<A = any> {
  readonly kind: "objectStore";
  readonly bucket: string;
  // Method syntax on purpose (here and in `deliver`): bivariant parameters let a function typed for one
  // trigger be passed where any `SluiceFunction` is expected.
  key(args: A): string;
  readonly contentType?: string;
}

/** Hands the result (or the failure report) to your own code. */
export interface CustomDestination<A = any> {
  readonly kind: "custom";
  deliver(args: A, ctx: Context): unknown;
}

export interface MessageDestinationOptions<A> {
  /**
   * The stream's or queue's name as the provider knows it: a Firehose delivery stream or Kinesis stream
   * name (or ARN), an SQS queue name or URL, a Pub/Sub topic id (or `projects/…/topics/…`), an Event Hub
   * or a Storage Queue name.
   */
  name: string;
  /**
   * The messages to send. Default: an array result sends one message per element, any other result one
   * message; as `onFailure`, one message per failure. Each message is sent as UTF-8 text when it is a
   * string, as it is when it is bytes, and as compact JSON otherwise.
   */
  messages?: (args: A) => readonly unknown[];
  /** Partition key, ordering key or message group id of each message. */
  key?: (message: unknown, args: A) => string | undefined;
  /** Attributes of each message (names and values are strings). */
  attributes?: (message: unknown, args: A) => Record<string, string> | undefined;
  /**
   * Where messages too large for the service go: the payload is written to this bucket (through the
   * provider's object store, under `prefix` and the SHA-256 of the payload, so a redelivery writes the same
   * object) and the message carries a pointer to it. A Sluice function triggered by the stream or queue
   * reads the payload back transparently. Without it an oversized message fails the delivery.
   */
  claimCheck?: { bucket: string; prefix?: string };
}

/** Sends to a stream or a queue through the running provider's messaging (see {@link destinations.stream}). */
export interface MessageDestination<A = any> {
  readonly kind: "stream" | "queue";
  readonly name: string;
  messages?(args: A): readonly unknown[];
  key?(message: unknown, args: A): string | undefined;
  attributes?(message: unknown, args: A): Record<string, string> | undefined;
  readonly claimCheck?: { readonly bucket: string; readonly prefix: string };
}

export type Destination<A = any> = ObjectStoreDestination<A> | CustomDestination<A> | MessageDestination<A>;

function messageDestination<A>(kind: "stream" | "queue", options: MessageDestinationOptions<A>): MessageDestination<A> {
  if (typeof options?.name !== "string" || options.name === "") {
    throw new ConfigurationError(`destinations.${kind}: name must be a non-empty string`);
  }
  for (const field of ["messages", "key", "attributes"] as const) {
    if (options[field] !== undefined && typeof options[field] !== "function") {
      throw new ConfigurationError(`destinations.${kind}: ${field} must be a function`);
    }
  }
  const destination: {
    -readonly [K in keyof MessageDestination<A>]: MessageDestination<A>[K];
  } = { kind, name: options.name };
  if (options.messages) destination.messages = options.messages;
  if (options.key) destination.key = options.key;
  if (options.attributes) destination.attributes = options.attributes;
  if (options.claimCheck !== undefined) {
    if (typeof options.claimCheck?.bucket !== "string" || options.claimCheck.bucket === "") {
      throw new ConfigurationError(`destinations.${kind}: claimCheck.bucket must be a non-empty string`);
    }
    destination.claimCheck = Object.freeze({
      bucket: options.claimCheck.bucket,
      prefix: options.claimCheck.prefix ?? "sluice-claim-checks/",
    });
  }
  return Object.freeze(destination);
}

/**
 * Destination factories, for `destination` (where the result goes) and `onFailure` (where failures go).
 *
 * @example
 * ```ts
 * destination: destinations.objectStore({ bucket: "sensor-reports", key: ({ event }) => `reports/${event.key}.json` }),
 * onFailure: destinations.custom(async (report) => alerting.send(report)),
 * ```
 */
export const destinations = {
  /**
   * Writes to `bucket` under `key(...)`. A result is written as JSON (strings and bytes as they are);
   * a failure report as newline-delimited JSON, one failure a line. Writes are whole or nothing.
   */
  objectStore<A = DefaultKeyArgs>(options: ObjectStoreDestinationOptions<A>): ObjectStoreDestination<A> {
    if (typeof options?.bucket !== "string" || options.bucket === "") {
      throw new ConfigurationError("destinations.objectStore: bucket must be a non-empty string");
    }
    if (typeof options.key !== "function") {
      throw new ConfigurationError("destinations.objectStore: key must be a function of the event and result");
    }
    const destination: { kind: "objectStore"; bucket: string; key: (args: A) => string; contentType?: string } = {
      kind: "objectStore",
      bucket: options.bucket,
      key: options.key,
    };
    if (options.contentType !== undefined) destination.contentType = options.contentType;
    return Object.freeze(destination);
  },
  /**
   * Sends to a stream: a Firehose delivery stream (default) or a Kinesis stream on AWS, a Pub/Sub topic
   * on GCP, an Event Hub on Azure. Batched within the service's limits; records the service refuses are
   * sent again, and the event fails (to be retried) only if some are still refused after that.
   */
  stream<A = DefaultKeyArgs>(options: MessageDestinationOptions<A>): MessageDestination<A> {
    return messageDestination("stream", options);
  },
  /** Sends to a queue: SQS on AWS, a Pub/Sub topic on GCP, a Storage Queue on Azure. Batched and retried as {@link destinations.stream}. */
  queue<A = DefaultKeyArgs>(options: MessageDestinationOptions<A>): MessageDestination<A> {
    return messageDestination("queue", options);
  },
  /** Calls `deliver` with the result (or the failure report) and the context. */
  custom<A = any>(deliver: (args: A, ctx: Context) => unknown): CustomDestination<A> {
    if (typeof deliver !== "function") throw new ConfigurationError("destinations.custom needs a function");
    return Object.freeze({ kind: "custom", deliver });
  },
};

/**
 * How a result becomes bytes for an object store.
 *
 * @example
 * ```ts
 * serializeResult({ ok: true }).contentType; // "application/json"
 * ```
 */
export function serializeResult(result: unknown, contentType?: string): { body: ObjectBody; contentType: string } {
  if (typeof result === "string") return { body: result, contentType: contentType ?? "text/plain; charset=utf-8" };
  if (result instanceof Uint8Array) return { body: result, contentType: contentType ?? "application/octet-stream" };
  return { body: `${JSON.stringify(result, null, 2)}\n`, contentType: contentType ?? "application/json" };
}
