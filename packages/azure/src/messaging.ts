import type { EventData, EventHubProducerClient } from "@azure/event-hubs";
import type { QueueServiceClient } from "@azure/storage-queue";
import {
  ConfigurationError,
  type MessageLimits,
  type MessageSender,
  type MessageSendFailure,
  type MessageTarget,
  type OutgoingMessage,
} from "@sluice/core";
import { type QueueEnvelopeMode, type QueueMessageEncoding, queueMessageText, queuePayload } from "./queue-envelope.js";

/**
 * The Azure service behind a target: `queue` is a Storage Queue, `stream` an Event Hub.
 *
 * @example
 * ```ts
 * const service: AzureMessagingService = target.kind === "queue" ? "Storage Queue" : "Event Hubs";
 * ```
 */
export type AzureMessagingService = "Storage Queue" | "Event Hubs";

/**
 * A stream or queue destination that cannot be used as configured: the service, the field (a destination
 * name, an app setting, an option) and why. Never retried.
 *
 * @example
 * ```ts
 * if (error instanceof AzureMessagingConfigurationError) console.log(error.service, error.field);
 * ```
 */
export class AzureMessagingConfigurationError extends ConfigurationError {
  readonly provider = "azure" as const;
  readonly service: AzureMessagingService;
  readonly field: string;
  constructor(service: AzureMessagingService, field: string, reason: string, options?: { cause?: unknown }) {
    super(`azure ${service}: ${field}: ${reason}`, options);
    this.name = "AzureMessagingConfigurationError";
    this.service = service;
    this.field = field;
  }
}

/**
 * The SDK a service needs is not installed: `@azure/storage-queue` and `@azure/event-hubs` are optional
 * peer dependencies of `@sluice/azure`, loaded on the first send only.
 *
 * @example
 * ```ts
 * // AzureMessagingSdkMissingError: azure Event Hubs: install @azure/event-hubs to send to Event Hubs
 * ```
 */
export class AzureMessagingSdkMissingError extends AzureMessagingConfigurationError {
  readonly packageName: string;
  constructor(service: AzureMessagingService, packageName: string, cause: unknown) {
    super(service, "dependencies", `install ${packageName} to send to ${service === "Event Hubs" ? "Event Hubs" : "Storage Queues"}`, {
      cause,
    });
    this.name = "AzureMessagingSdkMissingError";
    this.packageName = packageName;
  }
}

/**
 * Options of {@link AzureMessaging}. Every setting is read on the first send to its service, from
 * `env` (default `process.env`), as the Functions host reads the same settings for its bindings.
 *
 * @example
 * ```ts
 * new AzureMessaging({ queueConnection: "JobsStorage", eventHubsConnection: "TelemetryHubs" });
 * ```
 */
export interface AzureMessagingOptions {
  /** Where settings are read. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /**
   * The app setting with the Storage Queues' account: a connection string in `<setting>`, or an
   * identity-based connection in `<setting>__queueServiceUri` (or `<setting>__accountName`, with
   * `__credential: managedidentity` and `__clientId`). Default: the setting named by
   * `SLUICE_QUEUE_CONNECTION`, else `"AzureWebJobsStorage"`.
   */
  queueConnection?: string;
  /** A Queue service client you built (takes precedence over `queueConnection`). */
  queueServiceClient?: QueueServiceClient;
  /**
   * The consuming Function App's host.json `extensions.queues.messageEncoding`. Default `"base64"`, the
   * host's default: bodies are base64-encoded, so a message holds 48 KiB (64 KiB of base64 text).
   */
  queueMessageEncoding?: QueueMessageEncoding;
  /**
   * When a Storage Queue message is wrapped in Sluice's envelope (Storage Queue messages have no
   * attributes). `"when-needed"` (default): only when it carries attributes beyond the hop count (a claim
   * check, your own), or its bytes would not survive the host; a plain consumer gets plain payloads, and
   * the hop count does not travel. `"always"`: every message, so hop counts stop loops through queues, for
   * queues only Sluice functions read.
   */
  queueEnvelope?: QueueEnvelopeMode;
  /** Storage Queue messages sent at once (one request each). Default 16. */
  queueConcurrency?: number;
  /**
   * The app setting with the Event Hubs namespace: a connection string in `<setting>` (an `EntityPath`
   * in it must name the destination's hub), or `<setting>__fullyQualifiedNamespace` for an
   * identity-based connection (DefaultAzureCredential, or a managed identity with `__credential` and
   * `__clientId`). Default: the setting named by `SLUICE_EVENT_HUBS_CONNECTION`, else `"EventHubsConnection"`.
   */
  eventHubsConnection?: string;
  /** Builds the producer for a hub yourself (custom credential, retry options, a test server). */
  eventHubProducer?: (eventHubName: string) => EventHubProducerClient;
  /**
   * The hub's largest event batch, in bytes: 1 MiB on the Standard, Premium and Dedicated tiers (the
   * default), 256 KiB on Basic. A batch is one AMQP message, so this is also the largest event.
   */
  maxEventBatchBytes?: number;
}

/** 64 KiB of message text, as UTF-8: Azure Storage's limit per message (the XML request's `MessageText`). */
const QUEUE_MESSAGE_TEXT_BYTES = 64 * 1024;
/** Storage Queues take one message per request; this many are sent (concurrently) per `send`. */
const QUEUE_MESSAGES_PER_SEND = 32;
const DEFAULT_EVENT_BATCH_BYTES = 1024 * 1024;
/** Room for the batch message's own sections (its header, the copy of the first event's annotations). */
const EVENT_BATCH_RESERVE_BYTES = 1024;
/** An event's AMQP framing in a batch: its data section's header, its own message header and body section. */
const EVENT_OVERHEAD_BYTES = 64;
/** Partition keys whose batches are sent at once. */
const EVENT_HUB_KEYS_AT_ONCE = 8;
const utf8 = new TextEncoder();

/**
 * Sluice's `MessageSender` on Azure: `queue` destinations go to Azure Storage Queues, `stream`
 * destinations to Azure Event Hubs. The SDKs (`@azure/storage-queue`, `@azure/event-hubs`, both optional
 * peers) and the clients are loaded on the first send to each service.
 *
 * - Storage Queue: one message per request, sent 16 at a time; each refusal is reported for its own
 *   message. Bodies are base64 text (see `queueMessageEncoding`) and wrapped in an envelope only when
 *   they must be (see `queueEnvelope`); `fromStorageQueue` unwraps it.
 * - Event Hubs: events are added to `EventDataBatch`es (`createBatch` / `tryAdd`) within the hub's batch
 *   size, one batch per partition key (`key` → partition key, attributes → application properties). A
 *   batch is accepted or refused whole: a refused batch reports every event in it, and `sendAll` sends
 *   exactly those again.
 *
 * @example
 * ```ts
 * import { toAzureFunction, AzureMessaging } from "@sluice/azure";
 * export default toAzureFunction(enrichReadings, { messaging: new AzureMessaging({ eventHubsConnection: "TelemetryHubs" }) });
 * ```
 */
export class AzureMessaging implements MessageSender {
  readonly provider = "azure" as const;
  readonly #options: AzureMessagingOptions;
  #queueService: Promise<QueueServiceClient> | undefined;
  readonly #producers = new Map<string, Promise<EventHubProducerClient>>();

  constructor(options: AzureMessagingOptions = {}) {
    // A NaN concurrency (from an unset variable) would start no sender at all and report every message sent.
    const concurrency = options.queueConcurrency;
    if (concurrency !== undefined && (!Number.isSafeInteger(concurrency) || concurrency < 1)) {
      throw new AzureMessagingConfigurationError(
        "Storage Queue",
        "queueConcurrency",
        `must be a positive integer, got ${String(concurrency)}`,
      );
    }
    const batchBytes = options.maxEventBatchBytes;
    if (batchBytes !== undefined && (!Number.isSafeInteger(batchBytes) || batchBytes <= EVENT_BATCH_RESERVE_BYTES)) {
      throw new AzureMessagingConfigurationError(
        "Event Hubs",
        "maxEventBatchBytes",
        `must be an integer over ${EVENT_BATCH_RESERVE_BYTES} (the hub's largest batch: 1048576, or 262144 on Basic), got ${String(batchBytes)}`,
      );
    }
    this.#options = options;
    if (options.queueServiceClient) this.#queueService = Promise.resolve(options.queueServiceClient);
  }

  limits(target: MessageTarget): MessageLimits {
    if (target.kind === "queue") {
      const maxMessageBytes = this.#queueEncoding() === "base64" ? (QUEUE_MESSAGE_TEXT_BYTES / 4) * 3 : QUEUE_MESSAGE_TEXT_BYTES;
      return { maxMessageBytes, maxBatchMessages: QUEUE_MESSAGES_PER_SEND, maxBatchBytes: maxMessageBytes * QUEUE_MESSAGES_PER_SEND };
    }
    const batch = this.#options.maxEventBatchBytes ?? DEFAULT_EVENT_BATCH_BYTES;
    const maxMessageBytes = batch - EVENT_BATCH_RESERVE_BYTES;
    // Event Hubs counts no events per batch, only bytes; the count bounds the work of one send.
    return { maxMessageBytes, maxBatchMessages: 1000, maxBatchBytes: maxMessageBytes };
  }

  /**
   * Storage Queue: the bytes before the transport encoding (the body, or its envelope). Event Hubs: the
   * body, application properties and partition key with their AMQP framing; properties and key count
   * twice, because the batch message repeats the first event's.
   */
  size(target: MessageTarget, message: OutgoingMessage): number {
    if (target.kind === "queue") return this.#queuePayload(message).byteLength;
    let size = message.body.byteLength + EVENT_OVERHEAD_BYTES;
    for (const name in message.attributes) size += 2 * (byteLength(name) + byteLength(message.attributes[name] as string) + 8);
    if (message.key !== undefined) size += 2 * (byteLength(message.key) + 24);
    return size;
  }

  /**
   * Throws {@link AzureMessagingConfigurationError} when a target's name cannot be a Storage Queue's or an
   * Event Hub's: `toAzureFunction` checks a function's destinations with it when it wraps the function.
   */
  check(target: MessageTarget): void {
    if (target.kind === "queue" && !isQueueName(target.name)) {
      throw new AzureMessagingConfigurationError(
        "Storage Queue",
        "destination name",
        `${JSON.stringify(target.name)} is not a queue name (3–63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit)`,
      );
    }
    if (target.kind === "stream" && !isEventHubName(target.name)) {
      throw new AzureMessagingConfigurationError(
        "Event Hubs",
        "destination name",
        `${JSON.stringify(target.name)} is not an event hub name (1–256 letters, digits, periods, hyphens and underscores, starting and ending with a letter or digit)`,
      );
    }
  }

  async send(target: MessageTarget, messages: OutgoingMessage[]): Promise<{ failed: MessageSendFailure[] }> {
    try {
      return target.kind === "queue" ? await this.#sendToQueue(target.name, messages) : await this.#sendToHub(target.name, messages);
    } catch (error) {
      // A destination that cannot work as configured is not worth retrying: every message fails for good.
      if (error instanceof ConfigurationError) {
        return { failed: messages.map((_message, index) => ({ index, reason: error.message, retryable: false })) };
      }
      throw error;
    }
  }

  /** Closes the Event Hubs connections (Storage Queues use plain HTTP requests and hold none). */
  async close(): Promise<void> {
    const producers = [...this.#producers.values()];
    this.#producers.clear();
    await Promise.all(producers.map(async (producer) => (await producer.catch(() => undefined))?.close()));
  }

  #queueEncoding(): QueueMessageEncoding {
    const encoding = this.#options.queueMessageEncoding ?? "base64";
    if (encoding !== "base64" && encoding !== "none") {
      throw new AzureMessagingConfigurationError(
        "Storage Queue",
        "queueMessageEncoding",
        `must be "base64" or "none", got ${String(encoding)}`,
      );
    }
    return encoding;
  }

  #queuePayload(message: OutgoingMessage): Uint8Array {
    return queuePayload(message.body, message.attributes, {
      encoding: this.#queueEncoding(),
      mode: this.#options.queueEnvelope ?? "when-needed",
    });
  }

  async #sendToQueue(name: string, messages: OutgoingMessage[]): Promise<{ failed: MessageSendFailure[] }> {
    this.check({ kind: "queue", name });
    const queue = (await this.#queueServiceClient()).getQueueClient(name);
    const encoding = this.#queueEncoding();
    const limit = this.limits({ kind: "queue", name }).maxMessageBytes;
    const failed: MessageSendFailure[] = [];
    let next = 0;
    const worker = async () => {
      while (next < messages.length) {
        const index = next++;
        const payload = this.#queuePayload(messages[index] as OutgoingMessage);
        if (payload.byteLength > limit) {
          failed.push({
            index,
            reason: `Storage Queue ${name}: the message is ${payload.byteLength} bytes, over ${limit}`,
            retryable: false,
          });
          continue;
        }
        try {
          await queue.sendMessage(queueMessageText(payload, encoding));
        } catch (error) {
          failed.push(queueFailure(index, name, error));
        }
      }
    };
    const concurrency = Math.max(1, Math.min(this.#options.queueConcurrency ?? 16, messages.length));
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { failed: failed.sort((a, b) => a.index - b.index) };
  }

  #queueServiceClient(): Promise<QueueServiceClient> {
    this.#queueService ??= this.#createQueueServiceClient().catch((error: unknown) => {
      this.#queueService = undefined;
      throw error;
    });
    return this.#queueService;
  }

  async #createQueueServiceClient(): Promise<QueueServiceClient> {
    const env = this.#options.env ?? process.env;
    const setting = this.#options.queueConnection ?? env.SLUICE_QUEUE_CONNECTION ?? "AzureWebJobsStorage";
    const sdk = await importSdk("Storage Queue", "@azure/storage-queue", () => import("@azure/storage-queue"));
    const connectionString = env[setting];
    if (connectionString) {
      try {
        return sdk.QueueServiceClient.fromConnectionString(connectionString);
      } catch (cause) {
        throw new AzureMessagingConfigurationError("Storage Queue", `app setting ${setting}`, "is not a storage connection string", {
          cause,
        });
      }
    }
    const accountName = env[`${setting}__accountName`];
    const serviceUri = env[`${setting}__queueServiceUri`] ?? (accountName ? `https://${accountName}.queue.core.windows.net` : undefined);
    if (!serviceUri) {
      throw new AzureMessagingConfigurationError(
        "Storage Queue",
        `app setting ${setting}`,
        `holds no connection string and ${setting}__queueServiceUri (or __accountName) is not set; set one or pass queueServiceClient`,
      );
    }
    return new sdk.QueueServiceClient(serviceUri, await credentialFor(env, setting));
  }

  async #sendToHub(name: string, messages: OutgoingMessage[]): Promise<{ failed: MessageSendFailure[] }> {
    this.check({ kind: "stream", name });
    const producer = await this.#producer(name);
    const failed: MessageSendFailure[] = [];
    // One batch per partition key (a batch's key is the batch's, not the event's), in the order keys first
    // appear, so that events with the same key keep their order.
    const byKey = new Map<string | undefined, number[]>();
    for (const [index, message] of messages.entries()) {
      const group = byKey.get(message.key);
      if (group) group.push(index);
      else byKey.set(message.key, [index]);
    }
    const batchBytes = this.#options.maxEventBatchBytes;
    const sendGroup = async (key: string | undefined, indexes: number[]) => {
      // Without maxEventBatchBytes the batch takes the link's own max-message-size, which the hub announces.
      const options = { ...(key === undefined ? {} : { partitionKey: key }), ...(batchBytes ? { maxSizeInBytes: batchBytes } : {}) };
      let position = 0;
      let inBatch: number[] = [];
      try {
        let batch = await producer.createBatch(options);
        /** Sends the batch; `false` when the hub refused it. */
        const flush = async () => {
          if (inBatch.length === 0) return true;
          const sent = inBatch;
          inBatch = [];
          try {
            await producer.sendBatch(batch);
          } catch (error) {
            // A batch is one AMQP message: the hub accepts or refuses it whole.
            for (const index of sent) failed.push(hubFailure(index, name, error));
            return false;
          }
          batch = await producer.createBatch(options);
          return true;
        };
        for (; position < indexes.length; position++) {
          const index = indexes[position] as number;
          const event = toEventData(messages[index] as OutgoingMessage);
          if (batch.tryAdd(event)) {
            inBatch.push(index);
            continue;
          }
          if (!(await flush())) {
            if (key !== undefined) {
              // The key's later events wait for sendAll's next attempt: sent now, they would overtake the
              // refused ones, and the partition would hold the key's events out of order.
              for (const later of indexes.slice(position)) {
                failed.push({
                  index: later,
                  reason: `Event Hubs ${name}: held back: an earlier batch with partition key ${JSON.stringify(key)} was refused`,
                  retryable: true,
                });
              }
              return;
            }
            batch = await producer.createBatch(options);
          }
          if (batch.tryAdd(event)) inBatch.push(index);
          else
            failed.push({
              index,
              reason: `Event Hubs ${name}: the event is too large for one batch of ${batch.maxSizeInBytes} bytes`,
              retryable: false,
            });
        }
        await flush();
      } catch (error) {
        // The link failed between batches: what was sent stays sent; this key's unsent events fail.
        for (const index of [...inBatch, ...indexes.slice(position)]) {
          if (!failed.some((failure) => failure.index === index)) failed.push(hubFailure(index, name, error));
        }
      }
    };
    // Keys are independent: their batches go out a few at a time, each key's in order.
    const groups = [...byKey];
    let next = 0;
    const worker = async () => {
      while (next < groups.length) {
        const [key, indexes] = groups[next++] as [string | undefined, number[]];
        await sendGroup(key, indexes);
      }
    };
    await Promise.all(Array.from({ length: Math.min(EVENT_HUB_KEYS_AT_ONCE, groups.length) }, worker));
    return { failed: failed.sort((a, b) => a.index - b.index) };
  }

  #producer(name: string): Promise<EventHubProducerClient> {
    let producer = this.#producers.get(name);
    if (!producer) {
      producer = this.#createProducer(name).catch((error: unknown) => {
        this.#producers.delete(name);
        throw error;
      });
      this.#producers.set(name, producer);
    }
    return producer;
  }

  async #createProducer(name: string): Promise<EventHubProducerClient> {
    if (this.#options.eventHubProducer) return this.#options.eventHubProducer(name);
    const env = this.#options.env ?? process.env;
    const setting = this.#options.eventHubsConnection ?? env.SLUICE_EVENT_HUBS_CONNECTION ?? "EventHubsConnection";
    const sdk = await importSdk("Event Hubs", "@azure/event-hubs", () => import("@azure/event-hubs"));
    // sendAll retries exactly the refused events with back-off; the SDK retrying too would multiply attempts.
    const clientOptions = { retryOptions: { maxRetries: 0 } };
    const connectionString = env[setting];
    if (connectionString) {
      const entityPath = /(?:^|;)\s*EntityPath=([^;]*)/i.exec(connectionString)?.[1];
      if (entityPath !== undefined && entityPath !== name) {
        throw new AzureMessagingConfigurationError(
          "Event Hubs",
          `app setting ${setting}`,
          `its EntityPath is ${JSON.stringify(entityPath)}, but the destination sends to ${JSON.stringify(name)}; use a namespace-level connection string`,
        );
      }
      try {
        return new sdk.EventHubProducerClient(connectionString, name, clientOptions);
      } catch (cause) {
        throw new AzureMessagingConfigurationError("Event Hubs", `app setting ${setting}`, "is not an Event Hubs connection string", {
          cause,
        });
      }
    }
    const namespace = env[`${setting}__fullyQualifiedNamespace`];
    if (!namespace) {
      throw new AzureMessagingConfigurationError(
        "Event Hubs",
        `app setting ${setting}`,
        `holds no connection string and ${setting}__fullyQualifiedNamespace is not set; set one or pass eventHubProducer`,
      );
    }
    return new sdk.EventHubProducerClient(namespace, name, await credentialFor(env, setting), clientOptions);
  }
}

async function importSdk<T>(service: AzureMessagingService, packageName: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: unknown })?.code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND")
      throw new AzureMessagingSdkMissingError(service, packageName, error);
    throw error;
  }
}

/** The credential of an identity-based connection, as the Functions host builds it from `<setting>__credential` / `__clientId`. */
async function credentialFor(env: Record<string, string | undefined>, setting: string) {
  const { DefaultAzureCredential, ManagedIdentityCredential } = await import("@azure/identity");
  const clientId = env[`${setting}__clientId`];
  return env[`${setting}__credential`]?.toLowerCase() === "managedidentity"
    ? new ManagedIdentityCredential(clientId ? { clientId } : {})
    : new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
}

function toEventData(message: OutgoingMessage): EventData {
  // A Buffer body is sent as one AMQP data section, byte for byte (anything else the SDK would JSON-encode).
  const event: EventData = { body: Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength) };
  if (Object.keys(message.attributes).length > 0) event.properties = { ...message.attributes };
  return event;
}

/** A refused or failed Event Hubs send; the SDK marks what cannot pass later (too large, entity not found) as not retryable. */
function hubFailure(index: number, hub: string, error: unknown): MessageSendFailure {
  const code = (error as { code?: unknown })?.code;
  const reason = `Event Hubs ${hub} refused the batch: ${typeof code === "string" ? `${code}: ` : ""}${describeError(error)}`;
  return { index, reason, retryable: (error as { retryable?: unknown })?.retryable !== false };
}

/** Storage answers 400 for a message it will never take and 404 for a missing queue; the rest may pass later. */
function queueFailure(index: number, queue: string, error: unknown): MessageSendFailure {
  const status = (error as { statusCode?: unknown })?.statusCode;
  const code = (error as { code?: unknown; details?: { errorCode?: unknown } })?.details?.errorCode ?? (error as { code?: unknown })?.code;
  if (status === 404) return { index, reason: `Storage Queue ${queue} does not exist (${String(code ?? 404)})`, retryable: false };
  const reason = `Storage Queue ${queue} refused the message: ${typeof code === "string" ? `${code}: ` : ""}${describeError(error)}`;
  return { index, reason, retryable: !(typeof status === "number" && status >= 400 && status < 500 && status !== 408 && status !== 429) };
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message.split("\n")[0] || error.name : String(error);
}

function byteLength(text: string): number {
  return utf8.encode(text).byteLength;
}

/** Azure's queue naming rule. */
function isQueueName(name: string): boolean {
  return /^[a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9]$/.test(name);
}

/** Azure's event hub naming rule. */
function isEventHubName(name: string): boolean {
  return /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,254}[A-Za-z0-9])?$/.test(name);
}
