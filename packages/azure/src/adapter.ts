import { randomUUID } from "node:crypto";
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext, type Timer } from "@azure/functions";
import {
  createLogger,
  createRuntime,
  type EventTranslationError,
  type FunctionRuntime,
  type Logger,
  type LogLevel,
  type MessageSender,
  type NeutralEventData,
  type ObjectStore,
  type Outcome,
  SluiceError,
  type SluiceFunction,
  type Trigger,
  type HttpTrigger,
  type InvokeTrigger,
  type MessagesTrigger,
  type ObjectCreatedTrigger,
  type ObjectDeletedTrigger,
  type ScheduleTrigger,
  toHttpResult,
  httpErrorResult,
} from "@sluice/core";
import type { BlobServiceClient } from "@azure/storage-blob";
import { detectSource } from "./detect.js";
import { type AzureRegistrationOptions, type Registration, registrationFor } from "./registration.js";
import { AzureMessaging } from "./messaging.js";
import { BlobObjectStore } from "./storage.js";
import { fromBlobTrigger } from "./triggers/blob-trigger.js";
import { fromEventGrid, type ObjectTranslation } from "./triggers/event-grid.js";
import { fromEventHubs } from "./triggers/event-hubs.js";
import { type AzureSource, describeValue, translationError } from "./triggers/fields.js";
import { fromHttpRequest, isHttpRequest, toHttpResponseInit } from "./triggers/http.js";
import { fromServiceBus } from "./triggers/service-bus.js";
import { fromStorageQueue } from "./triggers/storage-queue.js";
import { fromTimer } from "./triggers/timer.js";

/**
 * Options of {@link toAzureFunction}: registration choices, the store, logging and the time limit.
 * `connection` names the trigger's connection; `storageConnection` the default store's.
 *
 * @example
 * ```ts
 * toAzureFunction(analyzeSensors, { storageConnection: "SensorStorage", functionTimeoutMs: 10 * 60_000, logLevel: "debug" });
 * ```
 */
export interface AzureOptions extends AzureRegistrationOptions {
  /** Register with `app` from `@azure/functions` (default `true`). `false` only builds the handler. */
  register?: boolean;
  /** The object store for readers and `objectStore` destinations. Default: a {@link BlobObjectStore}. */
  store?: ObjectStore;
  /** The Blob client for the default store (managed identity, Azurite…). */
  blobServiceClient?: BlobServiceClient;
  /** The app setting with the default store's connection string. Default `"AzureWebJobsStorage"`. */
  storageConnection?: string;
  /**
   * Where `stream` and `queue` destinations send. Default: an {@link AzureMessaging} built on the first
   * send from the app settings (`AzureWebJobsStorage` or `SLUICE_QUEUE_CONNECTION` for Storage Queues,
   * `EventHubsConnection` or `SLUICE_EVENT_HUBS_CONNECTION` for Event Hubs).
   */
  messaging?: MessageSender;
  log?: Logger;
  /** Used when `log` is not given. Default `"info"`. */
  logLevel?: LogLevel;
  /**
   * The Function App's `functionTimeout` in milliseconds: Azure does not tell a running function its
   * deadline. Default 5 minutes, the Consumption plan's default.
   */
  functionTimeoutMs?: number;
  /** host.json `extensions.http.routePrefix`, stripped from request paths. Default `"api"`. */
  routePrefix?: string;
}

/**
 * The handler registered with Azure, returned so that tests and custom registrations can call it. Its
 * type follows the trigger, so that it fits the matching `app.*` registration: HTTP and invoke functions
 * take an `HttpRequest` and answer an `HttpResponseInit`, timers take a `Timer`, the rest take whatever
 * their trigger delivers and answer nothing.
 *
 * @example
 * ```ts
 * const handler = toAzureFunction(analyzeSensors, { register: false });
 * app.eventGrid("analyze-sensors-eu", { handler });
 * ```
 */
export type AzureHandler<T extends Trigger = Trigger> = [T] extends [HttpTrigger | InvokeTrigger<unknown>]
  ? AzureHttpHandler
  : [T] extends [ScheduleTrigger]
    ? AzureTimerHandler
    : [T] extends [ObjectCreatedTrigger | ObjectDeletedTrigger | MessagesTrigger]
      ? AzureEventHandler
      : (input: unknown, context: InvocationContext) => Promise<unknown>;

/**
 * The handler of an HTTP or invoke function: it fits `app.http`.
 *
 * @example
 * ```ts
 * const handler: AzureHttpHandler = toAzureFunction(getItem, { register: false });
 * app.http("get-item", { route: "items/{id}", methods: ["GET"], handler });
 * ```
 */
export type AzureHttpHandler = (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>;

/**
 * The handler of a schedule function: it fits `app.timer`.
 *
 * @example
 * ```ts
 * const handler: AzureTimerHandler = toAzureFunction(nightlyReport, { register: false });
 * app.timer("nightly-report", { schedule: "0 0 3 * * *", handler });
 * ```
 */
export type AzureTimerHandler = (timer: Timer, context: InvocationContext) => Promise<void>;

/**
 * The handler of an object or message function: it fits `app.eventGrid`, `app.storageBlob`, the queue,
 * Service Bus and Event Hubs registrations.
 *
 * @example
 * ```ts
 * const handler: AzureEventHandler = toAzureFunction(analyzeSensors, { register: false });
 * app.eventGrid("analyze-sensors", { handler });
 * ```
 */
export type AzureEventHandler = (input: unknown, context: InvocationContext) => Promise<void>;

/** What every handler is underneath, whatever its trigger. */
type AnyAzureHandler = (input: unknown, context: InvocationContext) => Promise<unknown>;

const DEFAULT_FUNCTION_TIMEOUT_MS = 5 * 60_000;

/**
 * Runs a Sluice function on Azure Functions (v4 programming model): registers it with `app` according
 * to its trigger and returns the handler.
 *
 * Object triggers default to `app.eventGrid`: Event Grid's blob events carry an event id that stays the
 * same across redeliveries, the ETag, the size and deletions, and reach the function within seconds;
 * the blob trigger (`objectEvents: "storageBlob"`) has no event id or deletions and hands the whole blob
 * over in memory, and its polling source can lag by minutes.
 *
 * @example
 * ```ts
 * // src/functions/analyze-sensors.ts in a Function App
 * import { toAzureFunction } from "@sluice/azure";
 * import { analyzeSensors } from "../analyze-sensors.js";
 *
 * export default toAzureFunction(analyzeSensors); // app.eventGrid("analyze-sensors", …)
 * ```
 */
export function toAzureFunction<T extends Trigger, R>(fn: SluiceFunction<T, R>, options: AzureOptions = {}): AzureHandler<T> {
  const registration = registrationFor(fn as SluiceFunction, options);
  const store =
    options.store ?? new BlobObjectStore({ blobServiceClient: options.blobServiceClient, connection: options.storageConnection });
  const log = options.log ?? createLogger({ level: options.logLevel ?? "info" });
  if (options.messaging === undefined || options.messaging instanceof AzureMessaging) {
    // A destination name Azure cannot have fails here, when the function is wrapped, not on its first send.
    for (const destination of [fn.destination, fn.onFailure]) {
      if (destination?.kind === "stream" || destination?.kind === "queue") {
        (options.messaging ?? new AzureMessaging()).check({ kind: destination.kind, name: destination.name });
      }
    }
  }
  const runtime = createRuntime(fn as SluiceFunction, { provider: "azure", store, log, messaging: options.messaging ?? lazyMessaging() });
  const trigger = fn.trigger as Trigger;
  const timeoutMs = options.functionTimeoutMs ?? DEFAULT_FUNCTION_TIMEOUT_MS;

  const handler: AnyAzureHandler = async (input, context) => {
    const started = Date.now();
    const now = new Date(started).toISOString();
    const invocationId = validId(context?.invocationId) ?? randomUUID();
    const triggerMetadata = context?.triggerMetadata;
    const info = { invocationId, deadline: started + timeoutMs, nativeEvent: input, nativeContext: context };

    if (trigger.kind === "http") {
      const event = await fromHttpRequest(input, { invocationId, now, routePrefix: options.routePrefix });
      return answerHttp(await runtime.dispatch(event, info));
    }
    if (trigger.kind === "invoke") return runInvoke(runtime, input, { ...info, now });
    if (trigger.kind === "schedule") {
      const source = detectSource(input, triggerMetadata);
      if (source !== "timer") throw unexpected(source, trigger, input);
      return answerSingle(await runtime.dispatch(fromTimer(input, { invocationId, functionName: registration.name, now }), info));
    }
    if (trigger.kind === "messages") {
      const source = detectSource(input, triggerMetadata);
      const event = messagesFrom(source, input, triggerMetadata, trigger, now);
      // Event Hubs checkpoints after the invocation whatever it returns: failed events are not delivered again.
      const redelivers = source !== "event-hubs";
      return answerMessages(await runtime.dispatch(event, { ...info, redelivers }), runtime.log);
    }
    const translations = objectEventsFrom(input, triggerMetadata, now, trigger);
    let failure: unknown;
    for (const translation of translations) {
      if (translation.kind === "skip") {
        runtime.log.debug("event acknowledged without running the handler", {
          invocationId,
          eventId: translation.id,
          reason: translation.reason,
        });
        continue;
      }
      const outcome = await runtime.dispatch(translation, info);
      if (outcome.status === "failed" && failure === undefined) failure = outcome.error;
    }
    // Throwing makes Event Grid (or the queue) deliver the event again: the only retry Azure offers.
    if (failure !== undefined) throw failure;
    return undefined;
  };

  if (trigger.kind === "messages" && trigger.source === "stream" && !fn.onFailure) {
    // Event Hubs checkpoints past a failed batch: without onFailure, a failed event has nowhere to survive.
    log.warn("an Event Hubs function without onFailure loses the events that fail", { function: registration.name });
  }
  if (options.register !== false) registerWithApp(registration, handler, trigger, log);
  return handler as AzureHandler<T>;
}

/**
 * The default messaging, built on the first send: a function without stream or queue destinations never
 * builds it (and never loads `@azure/storage-queue` or `@azure/event-hubs`, which `AzureMessaging` imports
 * only when it sends).
 */
function lazyMessaging(): MessageSender {
  let messaging: AzureMessaging | undefined;
  const get = () => {
    messaging ??= new AzureMessaging();
    return messaging;
  };
  return {
    provider: "azure",
    limits: (target) => get().limits(target),
    size: (target, message) => get().size(target, message),
    send: (target, messages) => get().send(target, messages),
  };
}

function validId(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" && value !== "unknown" ? value : undefined;
}

function registerWithApp(registration: Registration, handler: AnyAzureHandler, trigger: Trigger, log: Logger): void {
  if (registration.method === "timer" && trigger.kind === "schedule" && trigger.timeZone) {
    const configured = process.env.WEBSITE_TIME_ZONE ?? process.env.TZ;
    if (configured !== trigger.timeZone) {
      // NCRONTAB has no time zone; the whole Function App reads schedules in WEBSITE_TIME_ZONE (UTC when unset).
      log.warn("timer schedules run in the Function App's WEBSITE_TIME_ZONE, not per function", {
        function: registration.name,
        timeZone: trigger.timeZone,
        websiteTimeZone: configured ?? "UTC",
      });
    }
  }
  const register = app[registration.method] as unknown as (name: string, options: Record<string, unknown>) => void;
  register(registration.name, { ...registration.options, handler });
}

function unexpected(source: AzureSource, trigger: Trigger, input: unknown): EventTranslationError {
  if (source === "unknown") return translationError("unknown", "", `no Azure trigger delivers this input (${describeValue(input)})`);
  return translationError(source, "", `a ${source} input cannot reach a function triggered by ${trigger.kind}`);
}

function objectEventsFrom(input: unknown, triggerMetadata: unknown, now: string, trigger: Trigger): ObjectTranslation[] {
  const source = detectSource(input, triggerMetadata);
  switch (source) {
    case "event-grid":
    case "cloudevents":
      return fromEventGrid(input);
    case "blob-trigger":
      return [fromBlobTrigger(triggerMetadata, now)];
    // Event Grid can deliver to a Storage Queue or Service Bus queue; the message body is then the event.
    case "storage-queue":
    case "service-bus": {
      const body = Array.isArray(input) ? input : [input];
      return body.flatMap((item) => fromEventGrid(item));
    }
    case "unknown":
      // A raw webhook body (text or bytes, perhaps with a BOM) is still worth a parse.
      if (typeof input === "string" || input instanceof Uint8Array) return fromEventGrid(input);
      throw unexpected(source, trigger, input);
    default:
      throw unexpected(source, trigger, input);
  }
}

function messagesFrom(source: AzureSource, input: unknown, triggerMetadata: unknown, trigger: Trigger & { kind: "messages" }, now: string) {
  switch (source) {
    case "storage-queue":
      return fromStorageQueue(input, triggerMetadata, { name: trigger.name, now });
    case "service-bus":
      return fromServiceBus(input, triggerMetadata, { source: trigger.source === "topic" ? "topic" : "queue", name: trigger.name, now });
    case "event-hubs":
      return fromEventHubs(input, triggerMetadata, { name: trigger.name, now });
    default:
      throw unexpected(source, trigger, input);
  }
}

/** A single event's outcome: `failed` throws so that the platform retries; the rest is acknowledged. */
function answerSingle(outcome: Outcome): undefined {
  if (outcome.status === "failed") throw outcome.error;
  return undefined;
}

/**
 * A batch's outcome. The v4 model has no per-message answer (no `batchItemFailures`): a Storage Queue
 * or single Service Bus message is retried when the invocation throws, and so is a whole Service Bus
 * batch. Messages past `maxAttempts` are already in `onFailure` by now; the rest are retried together.
 */
function answerMessages(outcome: Outcome, log: Logger): undefined {
  if (outcome.status === "failed") throw outcome.error;
  if (outcome.status === "messages" && outcome.failedMessageIds.length > 0) {
    log.warn("failing the invocation so that the platform delivers the failed messages again", { messageIds: outcome.failedMessageIds });
    throw new MessagesFailedError(outcome.failedMessageIds);
  }
  return undefined;
}

/**
 * Messages of an invocation failed and must be delivered again; thrown so that the platform does.
 *
 * @example
 * ```ts
 * try { await handler(messages, context); } catch (error) { if (error instanceof MessagesFailedError) console.log(error.messageIds); }
 * ```
 */
export class MessagesFailedError extends SluiceError {
  readonly messageIds: string[];

  constructor(messageIds: string[]) {
    super("MESSAGES_FAILED", `${messageIds.length} message(s) failed and will be delivered again: ${messageIds.slice(0, 10).join(", ")}`);
    this.messageIds = messageIds;
  }
}

function answerHttp(outcome: Outcome) {
  if (outcome.status === "http") return toHttpResponseInit(outcome.response);
  // An HTTP function always answers; anything else is a bug worth a 500 rather than a hang.
  return toHttpResponseInit(httpErrorResult(outcome.status === "failed" ? outcome.error : new Error(outcome.status)));
}

async function runInvoke(
  runtime: FunctionRuntime,
  input: unknown,
  info: { invocationId: string; deadline: number; nativeEvent: unknown; nativeContext: unknown; now: string },
) {
  if (!isHttpRequest(input)) throw translationError("http", "", `an invoke function is called over HTTP, got ${describeValue(input)}`);
  const text = await input.text();
  let payload: unknown;
  try {
    payload = text.trim() === "" ? null : JSON.parse(text);
  } catch {
    return toHttpResponseInit({
      status: 400,
      headers: { "content-type": "application/json" },
      cookies: [],
      body: JSON.stringify({ error: "the payload must be JSON" }),
    });
  }
  const event: NeutralEventData = { kind: "invoke", id: info.invocationId, time: info.now, payload, provider: "azure" };
  const outcome = await runtime.dispatch(event, info);
  if (outcome.status === "ok") return toHttpResponseInit(await toHttpResult(outcome.value ?? null));
  return toHttpResponseInit(httpErrorResult(outcome.status === "routed" || outcome.status === "failed" ? outcome.error : undefined));
}
