import { randomUUID } from "node:crypto";
import type { S3Client } from "@aws-sdk/client-s3";
import {
  EventTranslationError,
  SluiceError,
  createLogger,
  createRuntime,
  httpErrorResult,
  type FunctionRuntime,
  type HttpResult,
  type InvocationInfo,
  type LogLevel,
  type Logger,
  type MessageSender,
  type NeutralEventData,
  type ObjectStore,
  type Outcome,
  type SluiceFunction,
  type Trigger,
} from "@sluice/core";
import { detectSource } from "./detect.js";
import { AwsMessaging, type AwsStreamService } from "./messaging.js";
import { S3ObjectStore } from "./storage.js";
import { fromAlb, isAlbHealthCheck, isAlbMultiValue, toAlbResponse } from "./triggers/alb.js";
import type { MessageBatch } from "./triggers/batch.js";
import { type AwsSource, translationError } from "./triggers/fields.js";
import { fromFirehose } from "./triggers/firehose.js";
import { fromApiGatewayV1, toApiGatewayV1Response } from "./triggers/http-v1.js";
import { fromApiGatewayV2, toApiGatewayV2Response } from "./triggers/http-v2.js";
import { fromKinesis } from "./triggers/kinesis.js";
import { type ObjectItem, fromS3Notification } from "./triggers/s3.js";
import { fromS3EventBridge } from "./triggers/s3-eventbridge.js";
import { fromInvoke, fromScheduledEvent, fromSchedulerInput } from "./triggers/schedule.js";
import { fromSnsMessages, fromSnsObjectEvents } from "./triggers/sns.js";
import { fromSqsMessages, fromSqsObjectEvents } from "./triggers/sqs.js";

/**
 * Options of {@link toLambda}.
 *
 * @example
 * ```ts
 * export const handler = toLambda(fn, { s3: new S3Client({ region: "eu-west-1" }), logLevel: "debug" });
 * ```
 */
export interface LambdaOptions {
  /** The S3 client the object store uses. Default: one created on first use from the Lambda environment. */
  s3?: S3Client;
  /** Another object store instead of S3 (tests, another backend). Takes precedence over `s3`. */
  store?: ObjectStore;
  log?: Logger;
  /** Used when `log` is not given. Default `$SLUICE_LOG_LEVEL` or `"info"`. */
  logLevel?: LogLevel;
  /**
   * Where `stream` and `queue` destinations send. Default: an {@link AwsMessaging} whose SDK clients are
   * created on the first send, from the Lambda environment (`AWS_REGION`, the function role's credentials).
   */
  messaging?: MessageSender;
  /**
   * For the default messaging: the service of each stream destination by name, `"firehose"` (default)
   * or `"kinesis"` (see {@link AwsMessagingOptions.streams}).
   */
  streams?: Record<string, AwsStreamService>;
}

/**
 * What Lambda passes as the handler's second argument; only these members are read.
 *
 * @example
 * ```ts
 * await handler(event, { awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e812345678", getRemainingTimeInMillis: () => 30_000 });
 * ```
 */
export interface LambdaContextLike {
  awsRequestId: string;
  getRemainingTimeInMillis?(): number;
  functionName?: string;
}

/**
 * A Lambda handler, in the async form the Node.js runtime calls.
 *
 * @example
 * ```ts
 * export const handler: LambdaHandler = toLambda(fn);
 * ```
 */
export type LambdaHandler = (event: unknown, context: LambdaContextLike) => Promise<unknown>;

/**
 * An SQS or Kinesis partial batch response (Lambda Developer Guide, "Reporting batch item failures"). It
 * only takes effect when the event source mapping has `FunctionResponseTypes: ["ReportBatchItemFailures"]`.
 *
 * @example
 * ```ts
 * const answer: LambdaBatchResponse = { batchItemFailures: [{ itemIdentifier: "4368f51a-3168-47b9-8613-5bd90c4bc72e" }] };
 * ```
 */
export interface LambdaBatchResponse {
  batchItemFailures: Array<{ itemIdentifier: string }>;
}

/**
 * A Data Firehose transformation answer: every record, echoed by id, with its result and base64 data.
 *
 * @example
 * ```ts
 * const answer: FirehoseTransformationResponse = { records: [{ recordId: "49659…000000", result: "Dropped", data: "" }] };
 * ```
 */
export interface FirehoseTransformationResponse {
  records: Array<{ recordId: string; result: "Ok" | "Dropped" | "ProcessingFailed"; data: string }>;
}

/**
 * What a `messages` handler may return to transform Data Firehose records: each record's new data by
 * message id (text, bytes, or a value written as one JSON line), or `null` to drop it. Records not named
 * pass through unchanged; records the handler failed are `ProcessingFailed`. On other sources it is just
 * the handler's result.
 *
 * @example
 * ```ts
 * async handler(event) {
 *   const transformed: MessageTransformResult["transformed"] = {};
 *   for (const message of event.messages) transformed[message.id] = message.json<{ ok: boolean }>().ok ? message.text().toUpperCase() : null;
 *   return { transformed };
 * }
 * ```
 */
export interface MessageTransformResult {
  transformed: Record<string, string | Uint8Array | object | null>;
}

const OBJECT_SOURCES: readonly AwsSource[] = ["s3", "s3-eventbridge", "sqs", "sns"];
const HTTP_SOURCES: readonly AwsSource[] = ["apigw-v1", "apigw-v2", "function-url", "alb"];
const SCHEDULE_SOURCES: readonly AwsSource[] = ["schedule", "scheduler"];
const MESSAGE_SOURCES: readonly AwsSource[] = ["sqs", "sns", "kinesis", "firehose"];

/**
 * Turns a Sluice function into an AWS Lambda handler. One function with an object trigger works whether
 * S3 notifies it directly or through EventBridge, SQS, SNS or SNS into SQS; an HTTP function answers API
 * Gateway REST and HTTP APIs, function URLs and ALBs; a `messages` function takes SQS, SNS, Kinesis and
 * Firehose batches and reports exactly the failed messages.
 *
 * @example
 * ```ts
 * import { toLambda } from "@sluice/aws";
 * import { analyzeSensors } from "./function.js";
 *
 * export const handler = toLambda(analyzeSensors);
 * ```
 */
export function toLambda(fn: SluiceFunction<any, any>, options: LambdaOptions = {}): LambdaHandler {
  const store = options.store ?? new S3ObjectStore(options.s3 ? { client: options.s3 } : {});
  const log = options.log ?? createLogger({ level: options.logLevel ?? logLevelFromEnv() });
  const trigger = fn.trigger as Trigger;
  // A Firehose answer needs the handler's result, which core's messages outcome does not carry: keep it here.
  const results = new Map<string, unknown>();
  // Constructing AwsMessaging imports no SDK: each service's SDK and client come on its first send.
  const messaging = options.messaging ?? new AwsMessaging(options.streams ? { streams: options.streams } : {});
  const runtime = createRuntime(trigger.kind === "messages" ? capturingResults(fn, results) : fn, {
    provider: "aws",
    store,
    log,
    messaging,
  });
  const run = new Invocation(runtime, results);

  // Not async: an async layer costs a promise and a microtask per invocation. Whatever it throws becomes
  // a rejection, as it would from an async function.
  return function handler(event: unknown, context: LambdaContextLike): Promise<unknown> {
    try {
      return handle(event, context);
    } catch (error) {
      return Promise.reject(error);
    }
  };

  function handle(event: unknown, context: LambdaContextLike): Promise<unknown> {
    const remaining = typeof context?.getRemainingTimeInMillis === "function" ? context.getRemainingTimeInMillis() : undefined;
    const info: InvocationInfo = {
      invocationId: typeof context?.awsRequestId === "string" && context.awsRequestId !== "" ? context.awsRequestId : randomUUID(),
      deadline: typeof remaining === "number" && Number.isFinite(remaining) ? Date.now() + remaining : undefined,
      nativeEvent: event,
      nativeContext: context,
    };
    // The invocation time, for the sources that carry none (direct invocations, ALB): an ISO string per
    // invocation is not free, so it is only made where it is used.
    const receivedAt = Date.now();
    // A direct invocation can carry anything, even a payload shaped like another source's event.
    if (trigger.kind === "invoke") return run.single(fromInvoke(event, info.invocationId, new Date(receivedAt).toISOString()), info, true);

    const source = detectSource(event);
    // S3 sends its test message once, when a notification is configured: housekeeping, acknowledged
    // whatever the trigger (SEMANTICS, "Service messages are not data"), so it is never retried.
    if (source === "s3-test-event") {
      run.log.debug("s3:TestEvent acknowledged", { invocationId: info.invocationId });
      return Promise.resolve(undefined);
    }
    switch (trigger.kind) {
      case "object.created":
      case "object.deleted":
        accept(source, OBJECT_SOURCES, trigger.kind);
        return run.objects(source, event, info);
      case "http":
        accept(source, HTTP_SOURCES, trigger.kind);
        return run.http(source, event, info, receivedAt);
      case "schedule":
        accept(source, SCHEDULE_SOURCES, trigger.kind);
        return run.single(source === "schedule" ? fromScheduledEvent(event) : fromSchedulerInput(event), info, false);
      case "messages":
        accept(source, MESSAGE_SOURCES, trigger.kind);
        return run.messages(source, event, info);
    }
  }
}

function logLevelFromEnv(): LogLevel {
  const level = process.env.SLUICE_LOG_LEVEL;
  return level === "debug" || level === "info" || level === "warn" || level === "error" ? level : "info";
}

/** Which native sources can reach a function depends on its trigger: anything else is an error, not data. */
function accept(source: AwsSource, allowed: readonly AwsSource[], kind: string): void {
  if (allowed.includes(source)) return;
  throw translationError(
    source === "invoke" ? "unknown" : source,
    "",
    source === "invoke"
      ? `the payload is no Lambda event source a function triggered by ${kind} accepts`
      : `a ${source} event cannot reach a function triggered by ${kind}`,
  );
}

function capturingResults(fn: SluiceFunction, results: Map<string, unknown>): SluiceFunction {
  return {
    ...fn,
    async handler(event, ctx) {
      const value = await fn.handler(event, ctx);
      results.set(ctx.invocationId, value);
      return value;
    },
  };
}

/** The per-source answers: each method runs neutral events and returns what Lambda expects back. */
class Invocation {
  constructor(
    readonly runtime: FunctionRuntime,
    readonly results: Map<string, unknown>,
  ) {}

  get log(): Logger {
    return this.runtime.log;
  }

  async single(event: NeutralEventData, info: InvocationInfo, returnValue: boolean): Promise<unknown> {
    const outcome = await this.runtime.dispatch(event, info);
    if (outcome.status === "failed") throw outcome.error;
    return returnValue && outcome.status === "ok" ? outcome.value : undefined;
  }

  /** Not async, for the same reason as the handler: its callers turn what it throws into a rejection. */
  objects(source: AwsSource, event: unknown, info: InvocationInfo): Promise<unknown> {
    if (source === "sqs") return this.objectsFromSqs(event, info);
    const items =
      source === "s3"
        ? fromS3Notification(event)
        : source === "s3-eventbridge"
          ? fromS3EventBridge(event)
          : fromSnsObjectEvents(event).flat();
    // Lambda retries an asynchronous invocation whole: every record still runs, the first failure is thrown.
    return this.dispatchItems(items, info, true);
  }

  /** Runs each object item; returns the first failure (after running them all), or throws it with `rethrow`. */
  async dispatchItems(items: ObjectItem[], info: InvocationInfo, rethrow = false): Promise<unknown> {
    let failure: { error: unknown } | undefined;
    for (const item of items) {
      if ("ignored" in item) {
        this.log.debug("event ignored", { reason: item.ignored, invocationId: info.invocationId });
        continue;
      }
      const outcome = await this.runtime.dispatch(item.event, info);
      if (outcome.status === "failed") failure ??= { error: outcome.error };
    }
    if (failure && rethrow) throw failure.error;
    return failure?.error;
  }

  async objectsFromSqs(event: unknown, info: InvocationInfo): Promise<LambdaBatchResponse> {
    const messages = fromSqsObjectEvents(event);
    const failed: string[] = [];
    const errors: unknown[] = [];
    for (const message of messages) {
      const error = "error" in message ? message.error : await this.dispatchItems(message.value, info);
      if (error === undefined) continue;
      if ("error" in message) this.log.error("SQS message could not be translated", { messageId: message.id, error });
      failed.push(message.id);
      errors.push(error);
    }
    return batchResponse(messages.length, failed, errors);
  }

  /** Not async: each answer is one reaction to the runtime's outcome (see the handler). */
  http(source: AwsSource, event: unknown, info: InvocationInfo, receivedAt: number): Promise<unknown> {
    if (source === "alb") {
      const mode = { multiValue: isAlbMultiValue(event) };
      // Health checks only reach Lambda targets when enabled; they ask whether the target is up, not for data.
      if (isAlbHealthCheck(event)) return Promise.resolve(toAlbResponse({ status: 200, headers: {}, cookies: [], body: "" }, mode));
      return this.answer(fromAlb(event, new Date(receivedAt).toISOString()), info, (result) => toAlbResponse(result, mode));
    }
    if (source === "apigw-v1") return this.answer(fromApiGatewayV1(event), info, toApiGatewayV1Response);
    return this.answer(fromApiGatewayV2(event, source as "apigw-v2" | "function-url"), info, toApiGatewayV2Response);
  }

  answer<T>(request: NeutralEventData, info: InvocationInfo, respond: (result: HttpResult) => T): Promise<T> {
    return this.runtime
      .dispatch(request, info)
      .then((outcome) => respond(outcome.status === "http" ? outcome.response : httpErrorResult(undefined)));
  }

  async messages(source: AwsSource, event: unknown, info: InvocationInfo): Promise<unknown> {
    const batch =
      source === "sqs"
        ? fromSqsMessages(event)
        : source === "sns"
          ? fromSnsMessages(event)
          : source === "kinesis"
            ? fromKinesis(event)
            : fromFirehose(event);
    const { failed, routed, value } = await this.runBatch(batch, info);
    const errors: unknown[] = batch.rejected.map((item) => item.error);
    // Handler failures are logged by the runtime; a batch error then names the batch, not one translation error.
    const handlerFailed = failed.length > batch.rejected.length;
    if (source === "firehose") return firehoseResponse(event, batch, failed, routed, value, errors, handlerFailed);
    // SNS invokes Lambda asynchronously: there is no partial answer, so any failure fails the invocation.
    if (source === "sns" && failed.length > 0 && failed.length < batch.order.length) {
      throw new SluiceError("MESSAGES_FAILED", `${failed.length} of ${batch.order.length} SNS messages failed; the invocation is retried`);
    }
    return batchResponse(batch.order.length, failed, errors, handlerFailed);
  }

  async runBatch(batch: MessageBatch, info: InvocationInfo): Promise<{ failed: string[]; routed: string[]; value: unknown }> {
    for (const { id, error } of batch.rejected) this.log.error("message could not be translated", { messageId: id, error });
    const failed = new Set(batch.rejected.map((item) => item.id));
    let routed: string[] = [];
    let value: unknown;
    if (batch.data.messages.length > 0) {
      let outcome: Outcome;
      try {
        outcome = await this.runtime.dispatch(batch.data, info);
        value = this.results.get(info.invocationId);
      } finally {
        this.results.delete(info.invocationId);
      }
      if (outcome.status === "failed") for (const message of batch.data.messages) failed.add(message.id);
      else if (outcome.status === "messages") {
        for (const id of outcome.failedMessageIds) failed.add(id);
        routed = outcome.routedMessageIds;
      }
    }
    return { failed: batch.order.filter((id) => failed.has(id)), routed, value };
  }
}

/**
 * SQS and Kinesis partial batch response. A batch in which every message failed is thrown instead: Lambda
 * then retries it whole whether or not `ReportBatchItemFailures` is enabled on the event source mapping,
 * while a returned list of every id would count as success where that setting is off.
 */
function batchResponse(total: number, failed: string[], errors: unknown[], handlerFailed = false): LambdaBatchResponse {
  if (total > 0 && failed.length === total) throw wholeBatchError(errors, total, handlerFailed);
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}

function wholeBatchError(errors: unknown[], total: number, handlerFailed: boolean): unknown {
  // One known cause (a single message's error, or translation errors only) is clearer thrown as it is.
  if (!handlerFailed && (errors.length === 1 || (errors.length > 0 && errors.every((error) => error instanceof EventTranslationError)))) {
    return errors[0];
  }
  return new SluiceError("BATCH_FAILED", `every message of the batch failed (${total}); the whole batch is retried`, { cause: errors[0] });
}

function firehoseResponse(
  event: unknown,
  batch: MessageBatch,
  failed: string[],
  routed: string[],
  value: unknown,
  errors: unknown[],
  handlerFailed: boolean,
): FirehoseTransformationResponse {
  if (batch.order.length > 0 && failed.length === batch.order.length) throw wholeBatchError(errors, batch.order.length, handlerFailed);
  const original = new Map<string, string>();
  for (const record of (event as { records: Array<{ recordId: string; data: unknown }> }).records) {
    original.set(record.recordId, typeof record.data === "string" ? record.data : "");
  }
  const transformed = transformedRecords(value);
  const failedSet = new Set(failed);
  const droppedSet = new Set([...batch.skipped, ...routed]);
  return {
    records: batch.order.map((recordId) => {
      const data = original.get(recordId) ?? "";
      if (failedSet.has(recordId)) return { recordId, result: "ProcessingFailed", data };
      if (droppedSet.has(recordId)) return { recordId, result: "Dropped", data };
      if (!transformed || !Object.hasOwn(transformed, recordId)) return { recordId, result: "Ok", data };
      const output = transformed[recordId];
      if (output === null || output === undefined) return { recordId, result: "Dropped", data };
      return { recordId, result: "Ok", data: Buffer.from(encodeTransformed(output)).toString("base64") };
    }),
  };
}

function transformedRecords(value: unknown): MessageTransformResult["transformed"] | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const transformed = (value as { transformed?: unknown }).transformed;
  return typeof transformed === "object" && transformed !== null ? (transformed as MessageTransformResult["transformed"]) : undefined;
}

function encodeTransformed(output: string | Uint8Array | object): Uint8Array | string {
  if (typeof output === "string" || output instanceof Uint8Array) return output;
  // Firehose concatenates records as they are: a value becomes one JSON line so the output stays NDJSON.
  return `${JSON.stringify(output)}\n`;
}
