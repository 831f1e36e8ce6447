import { randomUUID } from "node:crypto";
import * as functions from "@google-cloud/functions-framework";
import type { Request, Response } from "@google-cloud/functions-framework";
import type { Storage } from "@google-cloud/storage";
import {
  ConfigurationError,
  EventTranslationError,
  SluiceError,
  createLogger,
  createRuntime,
  httpErrorResult,
  type HttpResult,
  type InvokeEvent,
  type Logger,
  type LogLevel,
  type MessageSender,
  type NeutralEventData,
  type ObjectStore,
  type Outcome,
  type SluiceFunction,
  type Trigger,
} from "@sluice/core";
import { type GcpDelivery, type GcpSource, detectSource } from "./detect.js";
import { PubsubMessaging } from "./messaging.js";
import { GcsObjectStore } from "./storage.js";
import { type IgnoredEvent, type TranslationEnv, isRecord, translationError } from "./triggers/fields.js";
import { type GcpHttpRequest, fromHttpRequest, headerValue } from "./triggers/http.js";
import { fromPubsubCloudEvent } from "./triggers/pubsub.js";
import { fromPubsubPush } from "./triggers/pubsub-push.js";
import { fromSchedulerCloudEvent, fromSchedulerPush, fromSchedulerRequest } from "./triggers/scheduler.js";
import { fromStorageCloudEvent } from "./triggers/storage-cloudevent.js";
import { fromStorageLegacyCloudEvent } from "./triggers/storage-legacy.js";
import { fromStoragePubsubCloudEvent, fromStoragePubsubPush } from "./triggers/storage-pubsub.js";

/**
 * How the function is registered with the Functions Framework.
 *
 * @example
 * ```ts
 * const signature: GcpSignature = "http"; // serve a Pub/Sub push subscription
 * ```
 */
export type GcpSignature = "cloudEvent" | "http";

/**
 * Options for {@link toCloudFunction}.
 *
 * @example
 * ```ts
 * const options: CloudFunctionOptions = { signature: "http", timeoutSeconds: 540, logLevel: "debug" };
 * toCloudFunction(processBatches, options);
 * ```
 */
export interface CloudFunctionOptions {
  /** The object store for object readers and `objectStore` destinations. Default: a {@link GcsObjectStore}. */
  store?: ObjectStore;
  /** The Cloud Storage client for the default store (e.g. one pointed at an emulator). */
  storage?: Storage;
  log?: Logger;
  /** Used when `log` is not given. Default `"info"`. */
  logLevel?: LogLevel;
  /**
   * `"cloudEvent"` (the default for every trigger but `http` and `invoke`) serves Eventarc triggers.
   * `"http"` serves deliveries that arrive as plain requests: Pub/Sub push subscriptions (the only
   * route that keeps `deliveryAttempt` and `orderingKey`) and Cloud Scheduler HTTP targets.
   * HTTP and invoke triggers are always `"http"`.
   */
  signature?: GcpSignature;
  /**
   * The function's timeout as deployed, so that `ctx.signal` fires before the platform stops the
   * function. Default `$FUNCTION_TIMEOUT_SEC`, else 60 (Cloud Functions' default).
   */
  timeoutSeconds?: number;
  /** Register with the Functions Framework under `fn.name`. Default true. */
  register?: boolean;
  /**
   * Where `stream` and `queue` destinations send. Default: a {@link PubsubMessaging} made on the first
   * send, publishing to Pub/Sub topics in the project of `$GOOGLE_CLOUD_PROJECT`, `$GCLOUD_PROJECT` or
   * `$GCP_PROJECT` (else the one the client library finds, e.g. from the metadata server), through
   * `$PUBSUB_EMULATOR_HOST` when set. Needs `@google-cloud/pubsub` installed.
   */
  messaging?: MessageSender;
  /** The clock, for tests. */
  now?: () => number;
}

/**
 * A handler registered with `functions.cloudEvent`: it resolves to acknowledge and throws to have the
 * event retried.
 *
 * @example
 * ```ts
 * const handler = toCloudFunction(analyzeSensors) as CloudEventHandler;
 * await handler(cloudEvent); // what the framework does with each CloudEvent
 * ```
 */
export type CloudEventHandler = ((cloudEvent: unknown) => Promise<void>) & { readonly signature: "cloudEvent" };
/**
 * A handler registered with `functions.http`.
 *
 * @example
 * ```ts
 * const handler = toCloudFunction(ingest) as HttpHandler; // an HTTP trigger
 * expressApp.post("/ingest", handler);
 * ```
 */
export type HttpHandler = ((req: Request, res: Response) => Promise<void>) & { readonly signature: "http" };
/**
 * What {@link toCloudFunction} returns: the handler it registered, tagged with its signature.
 *
 * @example
 * ```ts
 * const handler = toCloudFunction(analyzeSensors);
 * if (handler.signature === "cloudEvent") await handler(cloudEvent);
 * ```
 */
export type CloudFunctionHandler = CloudEventHandler | HttpHandler;

type ObjectOrData = NeutralEventData | IgnoredEvent;
type TriggerGroup = "object" | "messages" | "schedule";

const CLOUD_EVENT_TRANSLATORS: Record<TriggerGroup, Partial<Record<GcpSource, (event: unknown, env: TranslationEnv) => ObjectOrData>>> = {
  object: {
    "storage-cloudevent": fromStorageCloudEvent,
    "storage-legacy": fromStorageLegacyCloudEvent,
    "storage-pubsub": fromStoragePubsubCloudEvent,
  },
  // Any Pub/Sub message is a message to a messages function, a storage notification included.
  messages: { "pubsub-cloudevent": fromPubsubCloudEvent, "storage-pubsub": fromPubsubCloudEvent, scheduler: fromPubsubCloudEvent },
  // A schedule function's topic is the job's: Cloud Scheduler marks nothing, so any message there is a firing.
  schedule: { scheduler: fromSchedulerCloudEvent, "pubsub-cloudevent": fromSchedulerCloudEvent },
};

const isSchedulerRequest = (delivery: Extract<GcpDelivery, { signature: "http" }>) =>
  headerValue(delivery.request.headers, "x-cloudscheduler") === "true";

const REQUEST_TRANSLATORS: Record<
  TriggerGroup,
  Partial<Record<GcpSource, (delivery: Extract<GcpDelivery, { signature: "http" }>, env: TranslationEnv) => ObjectOrData>>
> = {
  object: { "storage-pubsub": (delivery, env) => fromStoragePubsubPush(delivery.json, env) },
  messages: {
    "pubsub-push": (delivery, env) => fromPubsubPush(delivery.json, env),
    "storage-pubsub": (delivery, env) => fromPubsubPush(delivery.json, env),
    scheduler: (delivery, env) => {
      if (isSchedulerRequest(delivery)) throw translationError("scheduler", "headers", "a Cloud Scheduler HTTP target carries no message");
      return fromPubsubPush(delivery.json, env);
    },
  },
  schedule: {
    scheduler: (delivery, env) =>
      isSchedulerRequest(delivery) ? fromSchedulerRequest(delivery.request, env) : fromSchedulerPush(delivery.json, env),
    "pubsub-push": (delivery, env) => fromSchedulerPush(delivery.json, env),
  },
};

function groupOf(trigger: Trigger): TriggerGroup | undefined {
  if (trigger.kind === "object.created" || trigger.kind === "object.deleted") return "object";
  if (trigger.kind === "messages" || trigger.kind === "schedule") return trigger.kind;
  return undefined;
}

/** Picks the translator for a delivery and runs it; anything but an EventTranslationError is wrapped in one. */
export function translateDelivery(trigger: Trigger, delivery: GcpDelivery, env: TranslationEnv): ObjectOrData {
  const group = groupOf(trigger);
  if (!group) throw new ConfigurationError(`a ${trigger.kind} trigger takes HTTP requests, not event deliveries`);
  const source = detectSource(delivery);
  if (!source) {
    const type = delivery.signature === "cloudEvent" && isRecord(delivery.event) ? delivery.event.type : undefined;
    throw translationError(
      "unknown",
      typeof type === "string" ? "type" : "",
      typeof type === "string"
        ? `no Google Cloud source this adapter knows has the event type ${JSON.stringify(type)} with this payload`
        : "the payload is no Google Cloud event (a CloudEvent, a Pub/Sub push or a Cloud Scheduler request)",
    );
  }
  let result: ObjectOrData | undefined;
  try {
    result =
      delivery.signature === "cloudEvent"
        ? CLOUD_EVENT_TRANSLATORS[group][source]?.(delivery.event, env)
        : REQUEST_TRANSLATORS[group][source]?.(delivery, env);
  } catch (error) {
    if (error instanceof EventTranslationError) throw error;
    throw translationError(source, "", "the payload could not be read", error);
  }
  if (result === undefined) {
    throw translationError(
      source,
      "",
      `a ${source} delivery cannot reach a function triggered by ${trigger.kind} (signature ${delivery.signature})`,
    );
  }
  return result;
}

function jsonOf(request: GcpHttpRequest): unknown {
  if (request.body === undefined || request.body.length === 0) return undefined;
  try {
    return JSON.parse(typeof request.body === "string" ? request.body : new TextDecoder().decode(request.body));
  } catch {
    return undefined;
  }
}

/**
 * A CloudEvent sent to a function registered as `http`: Eventarc delivers to whatever the service
 * serves, in binary mode (the four required `ce-*` headers, as the framework itself requires) or in
 * structured mode. Reading it here lets one http-registered function take Eventarc and push alike.
 */
export function cloudEventInRequest(request: GcpHttpRequest, json: unknown): Record<string, unknown> | undefined {
  const header = (name: string) => headerValue(request.headers, name);
  if (header("ce-type") && header("ce-id") && header("ce-source") && header("ce-specversion")) {
    const event: Record<string, unknown> = {};
    for (const name of Object.keys(request.headers)) {
      const value = header(name);
      if (name.toLowerCase().startsWith("ce-") && value !== undefined) event[name.slice(3).toLowerCase()] = value;
    }
    event.data = json;
    return event;
  }
  const contentType = header("content-type")?.toLowerCase() ?? "";
  return contentType.startsWith("application/cloudevents+json") && isRecord(json) ? json : undefined;
}

/** The Express request as the translators read it: raw body bytes, raw query string. */
export function requestOf(req: Request): GcpHttpRequest {
  const url = req.originalUrl ?? req.url ?? "/";
  const queryAt = url.indexOf("?");
  let body: Uint8Array | string | undefined = req.rawBody;
  if (body === undefined && (Buffer.isBuffer(req.body) || typeof req.body === "string")) body = req.body;
  const request: GcpHttpRequest = {
    method: req.method,
    path: queryAt === -1 ? url : url.slice(0, queryAt),
    search: queryAt === -1 ? "" : url.slice(queryAt + 1),
    headers: req.headers,
  };
  if (body !== undefined) request.body = body;
  const ip = req.socket?.remoteAddress;
  if (ip) request.ip = ip;
  return request;
}

function send(res: Response, result: HttpResult): void {
  res.status(result.status);
  for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
  if (result.cookies.length > 0) res.setHeader("set-cookie", result.cookies);
  // end(), not send(): Express's send() would add an ETag and guess a content type.
  res.end(typeof result.body === "string" ? result.body : Buffer.from(result.body));
}

const json = (status: number, body: unknown): HttpResult => ({
  status,
  headers: { "content-type": "application/json" },
  cookies: [],
  body: JSON.stringify(body),
});

/** The error a cloudEvent function throws so that the framework answers 500 and the platform retries. */
function retryError(outcome: Outcome): unknown {
  if (outcome.status === "failed") return outcome.error;
  if (outcome.status === "messages" && outcome.failedMessageIds.length > 0) {
    return new SluiceError("MESSAGE_FAILED", `message ${outcome.failedMessageIds.join(", ")} failed; Pub/Sub will deliver it again`);
  }
  return undefined;
}

/**
 * Runs a Sluice function on Google Cloud Functions: registers it with the Functions Framework under
 * `fn.name` (`functions.http` for HTTP and invoke triggers and for `signature: "http"`, else
 * `functions.cloudEvent`) and returns the handler, so the same module works with
 * `functions-framework --target=<name>` and in tests (`getTestServer(name)`).
 *
 * A cloudEvent handler resolves (204) when the event is done, ignored or routed to `onFailure`, and
 * throws (500) when the platform should deliver it again: a handler failure with no `onFailure`, a
 * failed message below `maxAttempts`, an event it cannot translate.
 *
 * @example
 * ```ts
 * // index.ts, deployed with --entry-point=analyze-sensors
 * import { toCloudFunction } from "@sluice/gcp";
 * import { analyzeSensors } from "./function.js";
 * export const handler = toCloudFunction(analyzeSensors);
 *
 * // a Pub/Sub push subscription (keeps deliveryAttempt for maxAttempts) to an HTTP endpoint
 * toCloudFunction(processBatches, { signature: "http" });
 * ```
 */
export function toCloudFunction<T extends Trigger, R>(fn: SluiceFunction<T, R>, options: CloudFunctionOptions = {}): CloudFunctionHandler {
  const trigger = fn.trigger as Trigger;
  const now = options.now ?? Date.now;
  const log = options.log ?? withSeverity(createLogger({ level: options.logLevel ?? "info" }));
  const store = options.store ?? new GcsObjectStore(options.storage ? { storage: options.storage } : {});
  const messaging = options.messaging ?? lazyPubsubMessaging();
  const runtime = createRuntime(fn as SluiceFunction, { provider: "gcp", store, log, now, messaging });
  const fromEnv = Number(process.env.FUNCTION_TIMEOUT_SEC);
  const timeoutSeconds = options.timeoutSeconds ?? (Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 60);
  const env: TranslationEnv = {
    now: () => new Date(now()).toISOString(),
    newId: randomUUID,
    triggerName: trigger.kind === "messages" ? trigger.name : fn.name,
  };
  const deadline = () => now() + timeoutSeconds * 1000;
  const isHttpTrigger = trigger.kind === "http" || trigger.kind === "invoke";
  const signature: GcpSignature = isHttpTrigger ? "http" : (options.signature ?? "cloudEvent");

  const reportTranslationError = (error: unknown, invocationId: string) => {
    const details = error instanceof EventTranslationError ? { source: error.source, field: error.field } : {};
    log.error("event could not be translated", { fn: fn.name, provider: "gcp", invocationId, error, ...details });
  };

  let handler: CloudFunctionHandler;
  if (signature === "cloudEvent") {
    const onCloudEvent = async (cloudEvent: unknown): Promise<void> => {
      const id = isRecord(cloudEvent) && typeof cloudEvent.id === "string" ? cloudEvent.id : randomUUID();
      let data: ObjectOrData;
      try {
        data = translateDelivery(trigger, { signature: "cloudEvent", event: cloudEvent }, env);
      } catch (error) {
        reportTranslationError(error, id);
        throw error;
      }
      if (data.kind === "ignored") {
        log.debug("event ignored", { fn: fn.name, provider: "gcp", invocationId: id, reason: data.reason });
        return;
      }
      const outcome = await runtime.dispatch(data, { invocationId: id, deadline: deadline(), nativeEvent: cloudEvent });
      const error = retryError(outcome);
      if (error !== undefined) throw error;
    };
    handler = Object.assign(onCloudEvent, { signature: "cloudEvent" as const });
  } else {
    const onRequest = async (req: Request, res: Response): Promise<void> => {
      const request = requestOf(req);
      let data: ObjectOrData;
      try {
        if (trigger.kind === "http") data = fromHttpRequest(request, env);
        else if (trigger.kind === "invoke") data = fromInvokeRequest(request, env);
        else {
          const json = jsonOf(request);
          const cloudEvent = cloudEventInRequest(request, json);
          data = translateDelivery(
            trigger,
            cloudEvent === undefined ? { signature: "http", request, json } : { signature: "cloudEvent", event: cloudEvent },
            env,
          );
        }
      } catch (error) {
        reportTranslationError(error, headerValue(request.headers, "function-execution-id") ?? "");
        send(res, json(400, { error: error instanceof Error ? error.message : "bad request" }));
        return;
      }
      const invocationId = data.kind === "messages" ? (data.messages[0]?.id ?? randomUUID()) : data.id;
      if (data.kind === "ignored") {
        log.debug("event ignored", { fn: fn.name, provider: "gcp", invocationId, reason: data.reason });
        send(res, { status: 204, headers: {}, cookies: [], body: "" });
        return;
      }
      const outcome = await runtime.dispatch(data, { invocationId, deadline: deadline(), nativeEvent: req, nativeContext: res });
      send(res, answerOf(outcome));
    };
    handler = Object.assign(onRequest, { signature: "http" as const });
  }

  if (options.register !== false) {
    try {
      if (handler.signature === "http") functions.http(fn.name, handler);
      else functions.cloudEvent(fn.name, handler);
    } catch (cause) {
      throw new ConfigurationError(`function ${fn.name} could not be registered with the Functions Framework`, { cause });
    }
  }
  return handler;
}

/**
 * The default sender, made when a destination first sends: a function that sends nothing never makes
 * it, and the Pub/Sub client library is loaded only by that first send.
 */
function lazyPubsubMessaging(): MessageSender {
  let sender: PubsubMessaging | undefined;
  const get = () => {
    sender ??= new PubsubMessaging();
    return sender;
  };
  return {
    provider: "gcp",
    limits: (target) => get().limits(target),
    size: (target, message) => get().size(target, message),
    send: (target, messages) => get().send(target, messages),
  };
}

const SEVERITY = { debug: "DEBUG", info: "INFO", warn: "WARNING", error: "ERROR" } as const;

/**
 * Adds Cloud Logging's `severity` to each line: Cloud Functions turns a JSON line on stdout into a log
 * entry, and without `severity` every entry, errors included, is filed as DEFAULT.
 *
 * @see https://cloud.google.com/logging/docs/structured-logging#special-payload-fields
 */
export function withSeverity(log: Logger): Logger {
  return {
    debug: (message, fields) => log.debug(message, { severity: SEVERITY.debug, ...fields }),
    info: (message, fields) => log.info(message, { severity: SEVERITY.info, ...fields }),
    warn: (message, fields) => log.warn(message, { severity: SEVERITY.warn, ...fields }),
    error: (message, fields) => log.error(message, { severity: SEVERITY.error, ...fields }),
    child: (fields) => withSeverity(log.child(fields)),
  };
}

/**
 * The HTTP answer for an outcome. Pub/Sub push treats 102, 200, 201, 202 and 204 as an acknowledgement
 * and anything else as a request to deliver again.
 */
function answerOf(outcome: Outcome): HttpResult {
  switch (outcome.status) {
    case "http":
      return outcome.response;
    case "ok":
      return outcome.value === undefined ? { status: 204, headers: {}, cookies: [], body: "" } : json(200, outcome.value);
    case "ignored":
      return { status: 204, headers: {}, cookies: [], body: "" };
    case "routed":
      // The failure is safe in onFailure; a retry would only fail again.
      return { status: 204, headers: {}, cookies: [], body: "" };
    case "failed":
      return httpErrorResult(outcome.error);
    case "messages":
      return outcome.failedMessageIds.length > 0
        ? json(500, { error: "message failed", failedMessageIds: outcome.failedMessageIds })
        : { status: 204, headers: {}, cookies: [], body: "" };
  }
}

/**
 * A direct invocation: an HTTP POST whose JSON body is the payload (what `gcloud functions call --data`
 * sends). An empty body is a `null` payload.
 */
export function fromInvokeRequest(request: GcpHttpRequest, env: TranslationEnv): InvokeEvent {
  const http = fromHttpRequest(request, env);
  let payload: unknown = null;
  if (http.body !== undefined) {
    const text = http.body.encoding === "base64" ? Buffer.from(http.body.data, "base64").toString("utf8") : http.body.data;
    try {
      payload = JSON.parse(text);
    } catch (cause) {
      throw translationError("http", "body", "an invoke payload must be JSON", cause);
    }
  }
  return { kind: "invoke", id: http.id, time: http.time, payload, provider: "gcp" };
}
