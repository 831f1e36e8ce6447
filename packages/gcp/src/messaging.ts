import {
  ConfigurationError,
  type MessageLimits,
  type MessageSendFailure,
  type MessageSender,
  type MessageTarget,
  type OutgoingMessage,
} from "@sluice/core";

/**
 * Pub/Sub's limits, from https://cloud.google.com/pubsub/quotas#resource_limits: a publish request holds
 * at most 1,000 messages and 10 MB; a message at most 10 MB (data and attributes), 100 attributes, an
 * attribute key of 256 bytes and a value of 1,024 bytes, an ordering key of 1,024 bytes.
 *
 * @example
 * ```ts
 * new PubsubMessaging({ limits: { maxMessageBytes: PUBSUB_LIMITS.maxMessageBytes / 10 } }); // claim-check sooner
 * ```
 */
export const PUBSUB_LIMITS = {
  maxMessageBytes: 10_000_000,
  maxBatchMessages: 1_000,
  maxBatchBytes: 10_000_000,
  maxAttributes: 100,
  maxAttributeKeyBytes: 256,
  maxAttributeValueBytes: 1_024,
  maxOrderingKeyBytes: 1_024,
} as const;

/**
 * The project variables read, in this order, when a topic is named by its id alone.
 *
 * @example
 * ```ts
 * const project = PROJECT_VARIABLES.map((name) => process.env[name]).find(Boolean);
 * ```
 */
export const PROJECT_VARIABLES = ["GOOGLE_CLOUD_PROJECT", "GCLOUD_PROJECT", "GCP_PROJECT"] as const;

/**
 * A stream or queue destination that cannot be served on Google Cloud: the topic name, the project, or
 * the Pub/Sub client library. Says which service, which field and why.
 *
 * @example
 * ```ts
 * if (error instanceof GcpMessagingError && error.code === "MISSING_SDK") console.error(error.message);
 * ```
 */
export class GcpMessagingError extends ConfigurationError {
  readonly provider = "gcp" as const;
  readonly service = "pubsub" as const;
  readonly field: string;
  readonly reason: string;
  constructor(
    code: "MISSING_SDK" | "BAD_TOPIC" | "NO_PROJECT" | "NO_CREDENTIALS",
    field: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`gcp Pub/Sub: ${field}: ${reason}`, options);
    (this as { code: string }).code = code;
    this.name = "GcpMessagingError";
    this.field = field;
    this.reason = reason;
  }
}

/**
 * The part of `@google-cloud/pubsub`'s `Topic` this sender uses.
 *
 * @example
 * ```ts
 * const topic: PubsubTopicLike = new PubSub().topic("readings", { messageOrdering: true });
 * ```
 */
export interface PubsubTopicLike {
  publishMessage(message: { data: Buffer; attributes?: Record<string, string>; orderingKey?: string }): Promise<string>;
  resumePublishing(orderingKey: string): void;
  flush(): Promise<void>;
}

/**
 * The part of `@google-cloud/pubsub`'s `PubSub` client this sender uses.
 *
 * @example
 * ```ts
 * new PubsubMessaging({ pubsub: new PubSub({ projectId: "my-project" }) });
 * ```
 */
export interface PubsubClientLike {
  topic(name: string, options?: Record<string, unknown>): PubsubTopicLike;
  auth?: { getProjectId(): Promise<string>; getClient?(): Promise<unknown> };
  /** Set by the client library when it talks to an emulator (no credentials needed). */
  isEmulator?: boolean;
  close?(): Promise<void>;
}

/**
 * Options for {@link PubsubMessaging}.
 *
 * @example
 * ```ts
 * const options: PubsubMessagingOptions = { projectId: "my-project", clientConfig: { apiEndpoint: "127.0.0.1:8085" } };
 * ```
 */
export interface PubsubMessagingOptions {
  /**
   * The project of topics named by their id. Default: `$GOOGLE_CLOUD_PROJECT`, `$GCLOUD_PROJECT`,
   * `$GCP_PROJECT`, else what the client library finds (gcloud's configuration, the metadata server).
   */
  projectId?: string;
  /** A `PubSub` client to use (made on first send from `clientConfig` otherwise). */
  pubsub?: PubsubClientLike;
  /**
   * Options for `new PubSub(…)` when this sender makes the client. The client honours
   * `PUBSUB_EMULATOR_HOST` itself.
   */
  clientConfig?: Record<string, unknown>;
  /** Lower limits than Pub/Sub's (never higher: the service would refuse). */
  limits?: Partial<MessageLimits>;
  /** Milliseconds one publish request may take, the client library's own retries included. Default 60,000. */
  publishTimeoutMs?: number;
}

const PUBSUB_MODULE = "@google-cloud/pubsub";
const FULL_TOPIC = /^projects\/([^/]+)\/topics\/([^/]+)$/;
// https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names
const TOPIC_ID = /^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;
// gRPC codes a retry cannot fix: INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, FAILED_PRECONDITION,
// OUT_OF_RANGE, UNIMPLEMENTED, UNAUTHENTICATED.
const PERMANENT_CODES = new Set([3, 5, 7, 9, 11, 12, 16]);
const CODE_NAMES: Record<number, string> = {
  1: "CANCELLED",
  2: "UNKNOWN",
  3: "INVALID_ARGUMENT",
  4: "DEADLINE_EXCEEDED",
  5: "NOT_FOUND",
  7: "PERMISSION_DENIED",
  8: "RESOURCE_EXHAUSTED",
  9: "FAILED_PRECONDITION",
  10: "ABORTED",
  11: "OUT_OF_RANGE",
  12: "UNIMPLEMENTED",
  13: "INTERNAL",
  14: "UNAVAILABLE",
  16: "UNAUTHENTICATED",
};

const encoder = new TextEncoder();
const byteLength = (text: string) => encoder.encode(text).byteLength;

/**
 * Where a target's messages go: `projects/<project>/topics/<topic>` from a full name, or from a topic id
 * and the project.
 *
 * @example
 * ```ts
 * topicPath("readings", "my-project"); // "projects/my-project/topics/readings"
 * ```
 */
export function topicPath(name: string, projectId: string | undefined): string {
  const full = FULL_TOPIC.exec(name);
  const topic = full ? (full[2] as string) : name;
  if (!TOPIC_ID.test(topic) || topic.toLowerCase().startsWith("goog")) {
    throw new GcpMessagingError(
      "BAD_TOPIC",
      "name",
      `${JSON.stringify(name)} is not a topic id or projects/<project>/topics/<topic> (a topic id is 3 to 255 letters, digits and - _ . ~ + %, starts with a letter, and does not start with "goog")`,
    );
  }
  if (full) return name;
  if (!projectId) {
    throw new GcpMessagingError(
      "NO_PROJECT",
      "projectId",
      `no project for topic ${JSON.stringify(name)}: set ${PROJECT_VARIABLES.join(" or ")}, pass projectId, or name the topic projects/<project>/topics/${name}`,
    );
  }
  return `projects/${projectId}/topics/${name}`;
}

/**
 * Why Pub/Sub would refuse this message, or `undefined` when it takes it (checked before publishing, so
 * that one bad message is refused alone instead of failing its whole publish request).
 *
 * @example
 * ```ts
 * pubsubRefusal({ body: new Uint8Array(0), attributes: {} }); // "a message needs data or at least one attribute"
 * ```
 */
export function pubsubRefusal(message: OutgoingMessage): string | undefined {
  const names = Object.keys(message.attributes);
  if (message.body.byteLength === 0 && names.length === 0) return "a message needs data or at least one attribute";
  if (names.length > PUBSUB_LIMITS.maxAttributes)
    return `attributes: ${names.length} attributes, over the limit of ${PUBSUB_LIMITS.maxAttributes}`;
  for (const name of names) {
    if (name === "") return "attributes: an attribute name is empty";
    if (byteLength(name) > PUBSUB_LIMITS.maxAttributeKeyBytes) {
      return `attributes: the name ${JSON.stringify(`${name.slice(0, 40)}…`)} is ${byteLength(name)} bytes, over the limit of ${PUBSUB_LIMITS.maxAttributeKeyBytes}`;
    }
    const value = message.attributes[name] as string;
    if (typeof value !== "string") return `attributes.${name}: must be a string`;
    if (byteLength(value) > PUBSUB_LIMITS.maxAttributeValueBytes) {
      return `attributes.${name}: the value is ${byteLength(value)} bytes, over the limit of ${PUBSUB_LIMITS.maxAttributeValueBytes}`;
    }
  }
  if (message.key !== undefined && byteLength(message.key) > PUBSUB_LIMITS.maxOrderingKeyBytes) {
    return `key: the ordering key is ${byteLength(message.key)} bytes, over the limit of ${PUBSUB_LIMITS.maxOrderingKeyBytes}`;
  }
  return undefined;
}

/**
 * Sends `stream` and `queue` destinations to Pub/Sub topics through `@google-cloud/pubsub`, loaded on
 * the first send (it is an optional peer dependency: a function that sends nothing never loads it).
 * A message's `key` is its ordering key; publishing with ordering keys is enabled, and a key the client
 * library pauses after a failed publish is resumed once its messages are reported, so that `sendAll`
 * sends them again in order. Bodies are the bytes as they are (Pub/Sub data is bytes); attributes are
 * Pub/Sub attributes.
 *
 * @example
 * ```ts
 * import { PubsubMessaging, toCloudFunction } from "@sluice/gcp";
 * export const handler = toCloudFunction(produceReadings, { messaging: new PubsubMessaging({ projectId: "my-project" }) });
 * ```
 */
export class PubsubMessaging implements MessageSender {
  readonly provider = "gcp" as const;
  readonly #options: PubsubMessagingOptions;
  readonly #limits: MessageLimits;
  #client: Promise<PubsubClientLike> | undefined;
  #project: Promise<string | undefined> | undefined;
  readonly #topics = new Map<string, PubsubTopicLike>();

  constructor(options: PubsubMessagingOptions = {}) {
    this.#options = options;
    const limits = { ...PUBSUB_LIMITS, ...options.limits };
    this.#limits = {
      maxMessageBytes: Math.min(limits.maxMessageBytes, PUBSUB_LIMITS.maxMessageBytes),
      maxBatchMessages: Math.min(limits.maxBatchMessages, PUBSUB_LIMITS.maxBatchMessages),
      maxBatchBytes: Math.min(limits.maxBatchBytes, PUBSUB_LIMITS.maxBatchBytes),
    };
    if (options.pubsub) this.#client = Promise.resolve(options.pubsub);
  }

  limits(_target: MessageTarget): MessageLimits {
    return this.#limits;
  }

  /** What Pub/Sub counts against its 10 MB: data, attribute names and values, and the ordering key. */
  size(_target: MessageTarget, message: OutgoingMessage): number {
    let size = message.body.byteLength;
    for (const name in message.attributes) size += byteLength(name) + byteLength(message.attributes[name] as string);
    if (message.key !== undefined) size += byteLength(message.key);
    return size;
  }

  /** The full name of the topic a target sends to. */
  async topicPath(target: MessageTarget): Promise<string> {
    if (FULL_TOPIC.test(target.name)) return topicPath(target.name, undefined);
    return topicPath(target.name, await this.#projectId());
  }

  async send(target: MessageTarget, messages: OutgoingMessage[]): Promise<{ failed: MessageSendFailure[] }> {
    const path = await this.topicPath(target);
    const topic = await this.#topic(path);
    const failed: MessageSendFailure[] = [];
    const publishing: Array<Promise<unknown>> = [];
    const indexes: number[] = [];
    messages.forEach((message, index) => {
      const refusal = pubsubRefusal(message);
      if (refusal !== undefined) {
        failed.push({ index, reason: `gcp Pub/Sub ${path}: message ${index} refused: ${refusal}`, retryable: false });
        return;
      }
      const outgoing: { data: Buffer; attributes?: Record<string, string>; orderingKey?: string } = {
        data: Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength),
      };
      if (Object.keys(message.attributes).length > 0) outgoing.attributes = message.attributes;
      if (message.key !== undefined && message.key !== "") outgoing.orderingKey = message.key;
      indexes.push(index);
      // publishMessage throws synchronously for what it refuses itself: a rejected promise either way.
      publishing.push(Promise.resolve().then(() => topic.publishMessage(outgoing)));
    });
    if (publishing.length > 0) void topic.flush().catch(() => {});
    const results = await Promise.allSettled(publishing);
    const pausedKeys = new Set<string>();
    results.forEach((result, position) => {
      if (result.status === "fulfilled") return;
      const index = indexes[position] as number;
      const error = result.reason as { code?: unknown; message?: unknown } | undefined;
      const code = typeof error?.code === "number" ? error.code : undefined;
      const key = messages[index]?.key;
      if (key) pausedKeys.add(key);
      failed.push({
        index,
        reason: `gcp Pub/Sub ${path}: ${code !== undefined ? `${CODE_NAMES[code] ?? code}: ` : ""}${String(error?.message ?? error)}`,
        retryable: code === undefined || !PERMANENT_CODES.has(code),
      });
    });
    // The client library fails every later message of an ordering key once one publish of it fails, until
    // the key is resumed: resume now, after the failures are counted, so that the retry can go through.
    for (const key of pausedKeys) topic.resumePublishing(key);
    failed.sort((a, b) => a.index - b.index);
    return { failed };
  }

  /** Lets an ordering key paused by a failed publish be published again (sends do this themselves). */
  async resumePublishing(target: MessageTarget, key: string): Promise<void> {
    (await this.#topic(await this.topicPath(target))).resumePublishing(key);
  }

  /** Closes the client this sender made. */
  async close(): Promise<void> {
    if (!this.#client || this.#options.pubsub) return;
    const client = await this.#client.catch(() => undefined);
    this.#client = undefined;
    this.#topics.clear();
    await client?.close?.();
  }

  #projectId(): Promise<string | undefined> {
    this.#project ??= (async () => {
      const fromOptions = this.#options.projectId ?? (this.#options.clientConfig?.projectId as string | undefined);
      if (fromOptions) return fromOptions;
      const fromEnvironment = projectFromEnvironment();
      if (fromEnvironment) return fromEnvironment;
      // The client library looks further (gcloud's configuration, the metadata server on Google Cloud).
      const client = await this.#clientOnce();
      try {
        return (await client.auth?.getProjectId()) || undefined;
      } catch {
        return undefined;
      }
    })();
    return this.#project;
  }

  #clientOnce(): Promise<PubsubClientLike> {
    this.#client ??= loadPubsub().then(async ({ PubSub }) => {
      const projectId = this.#options.projectId ?? projectFromEnvironment();
      const client = new PubSub({ ...this.#options.clientConfig, ...(projectId ? { projectId } : {}) });
      // Credentials are checked here, before any publish: the generated client rethrows a credentials
      // failure from inside publish() as an unhandled rejection (which would stop a Node process), besides
      // rejecting the publish itself. The emulator needs none.
      if (!client.isEmulator && client.auth?.getClient) {
        try {
          await client.auth.getClient();
        } catch (cause) {
          throw new GcpMessagingError(
            "NO_CREDENTIALS",
            "credentials",
            `no Google credentials to publish with (${cause instanceof Error ? cause.message : String(cause)}); on Google Cloud the function's service account provides them, elsewhere set GOOGLE_APPLICATION_CREDENTIALS or run \`gcloud auth application-default login\`, or set PUBSUB_EMULATOR_HOST for the emulator`,
            { cause },
          );
        }
      }
      return client;
    });
    // A failed load is not cached: installing the library does not need a new instance.
    this.#client.catch(() => {
      this.#client = undefined;
    });
    return this.#client;
  }

  async #topic(path: string): Promise<PubsubTopicLike> {
    let topic = this.#topics.get(path);
    if (!topic) {
      const client = await this.#clientOnce();
      topic = client.topic(path, {
        messageOrdering: true,
        // sendAll has cut the batch already; send it now rather than after the library's 10 ms wait.
        batching: { maxMessages: PUBSUB_LIMITS.maxBatchMessages, maxBytes: PUBSUB_LIMITS.maxBatchBytes, maxMilliseconds: 1 },
        gaxOpts: { timeout: this.#options.publishTimeoutMs ?? 60_000 },
      });
      this.#topics.set(path, topic);
    }
    return topic;
  }
}

function projectFromEnvironment(): string | undefined {
  for (const variable of PROJECT_VARIABLES) if (process.env[variable]) return process.env[variable];
  return undefined;
}

/**
 * Loads `@google-cloud/pubsub` on first use. The specifier is not a literal, so bundlers leave it out of
 * every bundle (a function that sends nothing pays nothing at cold start); a function that sends needs
 * it installed next to the bundle.
 */
async function loadPubsub(): Promise<{ PubSub: new (config: Record<string, unknown>) => PubsubClientLike }> {
  const specifier = PUBSUB_MODULE;
  try {
    const module = (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as {
      PubSub?: unknown;
      default?: { PubSub?: unknown };
    };
    const PubSub = module.PubSub ?? module.default?.PubSub;
    if (typeof PubSub !== "function") throw new Error(`${PUBSUB_MODULE} has no PubSub export`);
    return { PubSub: PubSub as new (config: Record<string, unknown>) => PubsubClientLike };
  } catch (cause) {
    const code = (cause as { code?: unknown })?.code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new GcpMessagingError(
        "MISSING_SDK",
        "@google-cloud/pubsub",
        `install ${PUBSUB_MODULE} (npm i ${PUBSUB_MODULE}@^5.3.1) to send to Pub/Sub topics from stream and queue destinations`,
        { cause },
      );
    }
    throw cause;
  }
}
