import { ConfigurationError, type SluiceFunction, type Trigger, toNcrontab } from "@sluice/core";

/**
 * How object events reach an object-triggered function.
 *
 * @example
 * ```ts
 * toAzureFunction(analyzeSensors, { objectEvents: "storageQueue", queueName: "blob-events" });
 * ```
 */
export type ObjectEventsVia = "eventGrid" | "storageBlob" | "storageQueue" | "serviceBusQueue";

/**
 * Registration choices; every field has a default, documented with it.
 *
 * @example
 * ```ts
 * toAzureFunction(readTelemetry, { connection: "TelemetryHub", consumerGroup: "sluice" }); // app.eventHub
 * toAzureFunction(handleJobs, { queueService: "serviceBus", connection: "ServiceBus", cardinality: "many" });
 * ```
 */
export interface AzureRegistrationOptions {
  /** The Azure function's name. Default: the Sluice function's name. */
  name?: string;
  /**
   * Object triggers: `"eventGrid"` (default) registers `app.eventGrid` for Event Grid's blob events;
   * `"storageBlob"` registers the blob trigger; `"storageQueue"` and `"serviceBusQueue"` read Event Grid
   * events that a subscription delivers to a queue (give `queueName`).
   */
  objectEvents?: ObjectEventsVia;
  /** The blob trigger's source. Default `"EventGrid"`; `"LogsAndContainerScan"` is the polling trigger. */
  blobSource?: "EventGrid" | "LogsAndContainerScan";
  /**
   * The app setting (or setting prefix, for identity-based connections) naming the storage account, Service
   * Bus namespace or Event Hubs namespace of the trigger. Default `"AzureWebJobsStorage"` for storage
   * triggers; required for Service Bus and Event Hubs.
   */
  connection?: string;
  /** Queue name for `objectEvents: "storageQueue" | "serviceBusQueue"`. */
  queueName?: string;
  /** `messages` triggers with `source: "queue"`: Storage Queue (default) or Service Bus. */
  queueService?: "storageQueue" | "serviceBus";
  /** Service Bus topics: the subscription to read. Default: the function's name. */
  subscriptionName?: string;
  /** Service Bus: one message per invocation (default) or a batch. Event Hubs always uses `"many"`. */
  cardinality?: "one" | "many";
  /** Event Hubs consumer group. Default `$Default`. */
  consumerGroup?: string;
  /** HTTP and invoke triggers: the function key needed. Default `"anonymous"`. */
  authLevel?: "anonymous" | "function" | "admin";
  /** A retry policy for triggers that support one (timer, Event Hubs), passed to the registration as is. */
  retry?: RetryPolicy;
}

/**
 * The v4 model's retry policy shape. The host retries the same invocation in memory before it moves on
 * (for Event Hubs: before it checkpoints).
 *
 * @example
 * ```ts
 * toAzureFunction(readTelemetry, {
 *   connection: "TelemetryHub",
 *   retry: { strategy: "exponentialBackoff", maxRetryCount: 5, minimumInterval: { seconds: 2 }, maximumInterval: { minutes: 1 } },
 * });
 * ```
 */
export type RetryPolicy =
  | { strategy: "fixedDelay"; maxRetryCount: number; delayInterval: { milliseconds?: number; seconds?: number; minutes?: number } }
  | {
      strategy: "exponentialBackoff";
      maxRetryCount: number;
      minimumInterval: { milliseconds?: number; seconds?: number; minutes?: number };
      maximumInterval: { milliseconds?: number; seconds?: number; minutes?: number };
    };

/** Which `app.*` method registers the function, and with which options (the handler is added when registering). */
export type Registration =
  | { method: "eventGrid"; name: string; options: Record<string, never> }
  | { method: "storageBlob"; name: string; options: { path: string; connection: string; source: "EventGrid" | "LogsAndContainerScan" } }
  | { method: "http"; name: string; options: { methods: string[]; authLevel: string; route: string } }
  | { method: "timer"; name: string; options: { schedule: string; retry?: RetryPolicy } }
  | { method: "storageQueue"; name: string; options: { queueName: string; connection: string } }
  | { method: "serviceBusQueue"; name: string; options: { queueName: string; connection: string; cardinality: "one" | "many" } }
  | {
      method: "serviceBusTopic";
      name: string;
      options: { topicName: string; subscriptionName: string; connection: string; cardinality: "one" | "many" };
    }
  | {
      method: "eventHub";
      name: string;
      options: { eventHubName: string; connection: string; cardinality: "many"; consumerGroup: string; retry?: RetryPolicy };
    };

const ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
const STORAGE_CONNECTION = "AzureWebJobsStorage";

/**
 * Decides how a function is registered with `@azure/functions`, from its trigger. Pure: the adapter
 * passes the result to `app[method]`.
 */
export function registrationFor(fn: SluiceFunction, options: AzureRegistrationOptions = {}): Registration {
  const trigger = fn.trigger as Trigger;
  const name = options.name ?? fn.name;
  switch (trigger.kind) {
    case "object.created":
    case "object.deleted": {
      const via = options.objectEvents ?? "eventGrid";
      if (via === "eventGrid") return { method: "eventGrid", name, options: {} };
      if (via === "storageBlob") {
        // The blob trigger fires for new and changed blobs only: it never sees a deletion.
        if (trigger.kind === "object.deleted") {
          throw new ConfigurationError(`function ${fn.name}: the blob trigger never fires for deletions; use objectEvents "eventGrid"`);
        }
        return {
          method: "storageBlob",
          name,
          options: {
            path: `${trigger.bucket}/${trigger.prefix ?? ""}{name}`,
            connection: options.connection ?? STORAGE_CONNECTION,
            source: options.blobSource ?? "EventGrid",
          },
        };
      }
      const queueName = requireOption(fn, options.queueName, "queueName", `objectEvents "${via}"`);
      if (via === "storageQueue") {
        return { method: "storageQueue", name, options: { queueName, connection: options.connection ?? STORAGE_CONNECTION } };
      }
      return {
        method: "serviceBusQueue",
        name,
        options: { queueName, connection: requireOption(fn, options.connection, "connection", "Service Bus"), cardinality: "one" },
      };
    }
    case "http":
      return {
        method: "http",
        name,
        options: {
          methods: [...(trigger.methods ?? ALL_METHODS)],
          authLevel: options.authLevel ?? "anonymous",
          route: trigger.path ? toAzureRoute(trigger.path) : "{*path}",
        },
      };
    case "invoke":
      // Azure has no direct-invoke API: an invoke function is an HTTP POST whose JSON body is the payload.
      return { method: "http", name, options: { methods: ["POST"], authLevel: options.authLevel ?? "function", route: `invoke/${name}` } };
    case "schedule": {
      // Core compiles the cron once for every cloud: six fields, seconds first, Sunday 0 only, and a cron
      // that restricts both day fields refused (NCRONTAB needs both to match, cron either).
      const registration: Registration = { method: "timer", name, options: { schedule: toNcrontab(trigger.cron) } };
      if (options.retry) registration.options.retry = options.retry;
      return registration;
    }
    case "messages": {
      if (trigger.source === "stream") {
        const registration: Registration = {
          method: "eventHub",
          name,
          options: {
            eventHubName: trigger.name,
            connection: requireOption(fn, options.connection, "connection", "Event Hubs"),
            // A batch per invocation: the only way to report which events failed before the checkpoint.
            cardinality: "many",
            consumerGroup: options.consumerGroup ?? "$Default",
          },
        };
        if (options.retry) registration.options.retry = options.retry;
        return registration;
      }
      if (trigger.source === "topic") {
        return {
          method: "serviceBusTopic",
          name,
          options: {
            topicName: trigger.name,
            subscriptionName: options.subscriptionName ?? fn.name,
            connection: requireOption(fn, options.connection, "connection", "Service Bus"),
            cardinality: options.cardinality ?? "one",
          },
        };
      }
      if ((options.queueService ?? "storageQueue") === "storageQueue") {
        return { method: "storageQueue", name, options: { queueName: trigger.name, connection: options.connection ?? STORAGE_CONNECTION } };
      }
      return {
        method: "serviceBusQueue",
        name,
        options: {
          queueName: trigger.name,
          connection: requireOption(fn, options.connection, "connection", "Service Bus"),
          cardinality: options.cardinality ?? "one",
        },
      };
    }
  }
}

function requireOption(fn: SluiceFunction, value: string | undefined, option: string, why: string): string {
  if (typeof value !== "string" || value === "") throw new ConfigurationError(`function ${fn.name}: ${why} needs options.${option}`);
  return value;
}

/** A trigger path (`/items/{id}`, greedy `{rest+}`) to an Azure route template (`items/{id}`, `{*rest}`). */
export function toAzureRoute(path: string): string {
  return path.replace(/^\/+/, "").replace(/\{([^}]+)\+\}/g, "{*$1}");
}
