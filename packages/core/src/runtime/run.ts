import { createLogger, type Context, type Logger, type QuarantineItem } from "../context.js";
import { serializeResult, type Destination, type FailureRecord, type FailureReport, type MessageDestination } from "../destinations.js";
import {
  EventTranslationError,
  ObjectNotFoundError,
  SluiceError,
  StorageError,
  TimeoutError,
  serializeError,
  type ProviderName,
} from "../errors.js";
import type { HttpEventData, MessageData, MessagesEventData, NeutralEventData, ObjectEventData } from "../events.js";
import type { SluiceFunction } from "../function.js";
import {
  CLAIM_CHECK_ATTRIBUTE,
  HOPS_ATTRIBUTE,
  defaultMessageSize,
  messageBody,
  sendAll,
  type ClaimCheck,
  type MessageSender,
  type OutgoingMessage,
  type SendAllOptions,
} from "../messaging.js";
import type { ObjectStore } from "../store.js";
import type { HttpTrigger, ObjectTriggerOptions, Trigger } from "../triggers.js";
import { httpErrorResult, httpResultOf, type HttpResult } from "./http-response.js";
import { OVERLONG_LINE_KEPT } from "./lines.js";
import { REPORT_OVERLONG, type OverlongLineReporter, withHttpReaders, withMessageReaders, withObjectReaders } from "./readers.js";

/** What a provider gives the runtime once, when it wraps a function. */
export interface RuntimeOptions {
  provider: ProviderName;
  /** The provider's object store: readers of object events and `objectStore` destinations go through it. */
  store?: ObjectStore;
  log?: Logger;
  now?: () => number;
  /** Largest HTTP body accepted. Default 6 MiB (Lambda's synchronous payload limit). */
  maxHttpBodyBytes?: number;
  /** The provider's messaging: `stream` and `queue` destinations send through it. */
  messaging?: MessageSender;
  /** How stream and queue destinations retry refused messages. */
  messageRetry?: Omit<SendAllOptions, "remainingMs">;
}

/** What a provider knows about one invocation. */
export interface InvocationInfo {
  invocationId: string;
  /** Epoch milliseconds when the platform stops the function; omitted when it sets no limit. */
  deadline?: number;
  nativeEvent?: unknown;
  nativeContext?: unknown;
  /**
   * Message batches: `false` when the platform will not deliver a failed message again (Event Hubs
   * checkpoints regardless), so every failed message must go to `onFailure` now.
   */
  redelivers?: boolean;
}

/** What became of one neutral event. Adapters turn it into the platform's answer. */
export type Outcome =
  /** Not for this function (filter, kind, housekeeping): acknowledged, never retried. */
  | { status: "ignored"; reason: string }
  | { status: "ok"; value: unknown }
  /** The handler failed and the failure was delivered to `onFailure`: acknowledged. */
  | { status: "routed"; error: unknown }
  /** Must be retried by the platform: the handler failed with nowhere to route it, or I/O failed. */
  | { status: "failed"; error: unknown }
  | { status: "http"; response: HttpResult }
  /** `failedMessageIds` must be retried; the rest are done (some of them routed to `onFailure`). */
  | { status: "messages"; failedMessageIds: string[]; routedMessageIds: string[] };

/** Runs one function's neutral events: filters, handler, destinations, failures. One per function. */
export interface FunctionRuntime {
  readonly fn: SluiceFunction;
  readonly log: Logger;
  dispatch(event: NeutralEventData, invocation: InvocationInfo): Promise<Outcome>;
}

const DEFAULT_TIMEOUT_MARGIN_MS = 500;
/** The outcome of most events: shared, since nothing changes an outcome once made. */
const OK_WITHOUT_VALUE: Outcome = Object.freeze({ status: "ok", value: undefined });
const DEFAULT_MAX_HOPS = 8;
/**
 * The metadata name under which outputs carry their hop count.
 *
 * @example
 * ```ts
 * (await store.head(bucket, key))?.metadata?.[HOPS_METADATA]; // "2"
 * ```
 */
export const HOPS_METADATA = "sluice-hops";

/** The hop count an object carries; 0 when it has none or cannot be read (the handler's own read will say why). */
async function readHops(store: ObjectStore, data: ObjectEventData): Promise<number> {
  try {
    const hops = Number((await store.head(data.bucket, data.key))?.metadata?.[HOPS_METADATA] ?? 0);
    return Number.isSafeInteger(hops) && hops > 0 ? hops : 0;
  } catch {
    return 0;
  }
}

/** What every context of one runtime shares. */
interface ContextShared {
  provider: ProviderName;
  functionName: string;
  now: () => number;
  log: Logger;
  store: ObjectStore;
}

/** Aborts a context's signal: a symbol, so that handlers do not see it among the context's members. */
const ABORT = Symbol("abort");
/** The records a handler quarantined, in order (the same empty array when none). */
const QUARANTINED = Symbol("quarantined");
const NONE_QUARANTINED: readonly QuarantineItem[] = Object.freeze([]);

/**
 * The context a handler gets. A class, so that its methods and lazy members live on the prototype: one
 * context per event costs a few field writes instead of an object literal with four closures. The signal
 * and the child logger are made on first use: an AbortController alone costs more than a simple handler
 * (measured: about 4 µs of a 10 µs dispatch), and most handlers touch neither.
 */
class RunContext implements Context {
  readonly provider: ProviderName;
  readonly functionName: string;
  readonly invocationId: string;
  readonly deadline: number;
  readonly store: ObjectStore;
  /** Milliseconds the handler may run before it fails with TimeoutError; infinite without a deadline. */
  readonly budget: number;
  readonly #shared: ContextShared;
  readonly #invocation: InvocationInfo;
  // Made on the first quarantined record: most events have none, and an array per event shows in the profile.
  #quarantined: QuarantineItem[] | undefined;
  #controller: AbortController | undefined;
  #aborted = false;
  #abortedWith: unknown;
  #log: Logger | undefined;
  #native: Context["native"] | undefined;
  #remainingMs: (() => number) | undefined;
  #quarantine: ((item: QuarantineItem) => void) | undefined;

  constructor(shared: ContextShared, invocation: InvocationInfo, deadline: number, budget: number) {
    this.provider = shared.provider;
    this.functionName = shared.functionName;
    this.invocationId = invocation.invocationId;
    this.deadline = deadline;
    this.store = shared.store;
    this.budget = budget;
    this.#shared = shared;
    this.#invocation = invocation;
  }

  // `remainingMs` and `quarantine` are getters returning functions made on first use, not methods: a
  // handler that destructures its context (`(event, { quarantine, remainingMs }) => …`) calls them
  // without `this`, and a prototype method would then fail.
  get remainingMs(): () => number {
    this.#remainingMs ??= () => Math.max(0, this.deadline - this.#shared.now());
    return this.#remainingMs;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#abortedWith);
    }
    return this.#controller.signal;
  }

  get log(): Logger {
    this.#log ??= this.#shared.log.child({ invocationId: this.invocationId });
    return this.#log;
  }

  get native(): Context["native"] {
    this.#native ??= { event: this.#invocation.nativeEvent, context: this.#invocation.nativeContext };
    return this.#native;
  }

  get quarantine(): (item: QuarantineItem) => void {
    this.#quarantine ??= (item) => {
      this.#quarantined ??= [];
      this.#quarantined.push(item);
    };
    return this.#quarantine;
  }

  [QUARANTINED](): readonly QuarantineItem[] {
    return this.#quarantined ?? NONE_QUARANTINED;
  }

  /** Reports a line too long to buffer, for the event's line readers: made on first use, like `quarantine`. */
  get [REPORT_OVERLONG](): OverlongLineReporter {
    return (line, length) =>
      this.quarantine({
        error: new SluiceError("LINE_TOO_LONG", `line ${line.number} is ${length} characters long, over the limit`),
        line: line.number,
        raw: line.text,
      });
  }

  [ABORT](reason: unknown): void {
    this.#aborted = true;
    this.#abortedWith = reason;
    this.#controller?.abort(reason);
  }
}

/** A handler in flight with a deadline: a node of {@link DeadlineWatch}'s list. */
interface Watched {
  expiresAt: number;
  expire: () => void;
  previous: Watched | undefined;
  next: Watched | undefined;
}

/**
 * One timer for every handler in flight with a deadline, armed for the earliest expiry. A handler that
 * settles in time only leaves the list; the timer is re-armed when it fires early or a handler with an
 * earlier expiry starts, and it holds the process open only while a handler is in flight. A linked list,
 * not a Set: adding an object to a Set gives it an identity hash, which showed in the profile.
 */
class DeadlineWatch {
  readonly #now: () => number;
  #first: Watched | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #refed = false;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Watches a handler that expires at `expiresAt` (epoch ms): absolute, so that no clock is read per event here. */
  watch(expiresAt: number, expire: () => void): Watched {
    const entry: Watched = { expiresAt, expire, previous: undefined, next: this.#first };
    if (this.#first) this.#first.previous = entry;
    this.#first = entry;
    if (entry.expiresAt < this.#timerAt) this.#arm(entry.expiresAt);
    else if (!this.#refed) {
      this.#timer?.ref();
      this.#refed = true;
    }
    return entry;
  }

  unwatch(entry: Watched): void {
    if (entry.previous) entry.previous.next = entry.next;
    else if (this.#first === entry) this.#first = entry.next;
    else return; // already expired and removed
    if (entry.next) entry.next.previous = entry.previous;
    entry.previous = undefined;
    entry.next = undefined;
    // Nothing in flight: the timer stays armed (re-arming per event is what this class avoids) but no
    // longer keeps the process alive.
    if (!this.#first && this.#refed) {
      this.#timer?.unref();
      this.#refed = false;
    }
  }

  #arm(at: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, at - this.#now()));
    this.#refed = true;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#refed = false;
    const time = this.#now();
    let next = Number.POSITIVE_INFINITY;
    const expired: Watched[] = [];
    for (let entry = this.#first; entry; entry = entry.next) {
      if (entry.expiresAt <= time) expired.push(entry);
      else if (entry.expiresAt < next) next = entry.expiresAt;
    }
    for (const entry of expired) {
      this.unwatch(entry);
      entry.expire();
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") && value !== null && typeof (value as { then?: unknown }).then === "function"
  );
}

/**
 * Creates the runtime that every provider runs a function through, so that filters, failure routing,
 * quarantine and deadlines behave the same on every cloud.
 *
 * @example
 * ```ts
 * const runtime = createRuntime(fn, { provider: "local", store });
 * const outcome = await runtime.dispatch(eventData, { invocationId: "1" });
 * ```
 */
export function createRuntime(fn: SluiceFunction, options: RuntimeOptions): FunctionRuntime {
  const now = options.now ?? Date.now;
  const log = (options.log ?? createLogger()).child({ fn: fn.name, provider: options.provider });
  const trigger = fn.trigger as Trigger;

  const noStore = (why: string) => new SluiceError("NO_STORE", `${options.provider} runtime has no object store, needed to ${why}`);
  const requireStore = (why: string): ObjectStore => {
    if (!options.store) throw noStore(why);
    return options.store;
  };

  // A provider without a store still gives handlers one: each call says plainly that there is none.
  const contextStore: ObjectStore = options.store ?? {
    get: () => Promise.reject(noStore("get objects")),
    put: () => Promise.reject(noStore("put objects")),
    head: () => Promise.reject(noStore("head objects")),
    list: () => ({
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(noStore("list objects")) }),
    }),
    delete: () => Promise.reject(noStore("delete objects")),
  };

  function dispatch(event: NeutralEventData, invocation: InvocationInfo): Promise<Outcome> {
    // Not async: each async layer costs a promise and a microtask per event (about 0.1 µs measured), and
    // runSingle, runHttp and runMessages are async themselves.
    let skip: string | undefined;
    try {
      skip = reasonToSkip(trigger, event);
    } catch (error) {
      return Promise.reject(error);
    }
    if (skip) {
      log.debug("event ignored", { reason: skip, invocationId: invocation.invocationId });
      return Promise.resolve({ status: "ignored", reason: skip });
    }
    switch (event.kind) {
      case "object.created":
      case "object.deleted":
      case "schedule":
      case "invoke":
        return runSingle(event, invocation);
      case "http":
        return runHttp(event, invocation);
      case "messages":
        return runMessages(event, invocation);
    }
  }

  const contextShared: ContextShared = { provider: options.provider, functionName: fn.name, now, log, store: contextStore };
  const timeoutMargin = fn.timeoutMarginMs ?? DEFAULT_TIMEOUT_MARGIN_MS;
  const maxHops = fn.maxHops ?? DEFAULT_MAX_HOPS;
  const deadlines = new DeadlineWatch(now);

  function makeContext(invocation: InvocationInfo): RunContext {
    const deadline = invocation.deadline ?? Number.POSITIVE_INFINITY;
    return new RunContext(contextShared, invocation, deadline, deadline - timeoutMargin - now());
  }

  /**
   * Runs the handler, failing it with TimeoutError when it overruns its budget. The budget is watched by
   * one timer shared by every handler in flight, not a timer and a `Promise.race` per event (measured:
   * about 1–2 µs per event, more than a simple handler).
   */
  function callHandler(event: unknown, context: RunContext): Promise<unknown> {
    const handler = fn.handler as (event: unknown, ctx: Context) => unknown;
    const budget = context.budget;
    if (!Number.isFinite(budget)) {
      try {
        return Promise.resolve(handler(event, context));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return new Promise((resolve, reject) => {
      const watched = deadlines.watch(context.deadline - timeoutMargin, () => {
        const error = new TimeoutError(Math.max(0, Math.round(budget)));
        context[ABORT](error);
        reject(error);
      });
      let result: unknown;
      try {
        result = handler(event, context);
      } catch (error) {
        deadlines.unwatch(watched);
        reject(error);
        return;
      }
      if (!isPromiseLike(result)) {
        deadlines.unwatch(watched);
        resolve(result);
        return;
      }
      result.then(
        (value) => {
          deadlines.unwatch(watched);
          resolve(value);
        },
        (error: unknown) => {
          deadlines.unwatch(watched);
          reject(error);
        },
      );
    });
  }

  /**
   * Runs the handler and settles with what `succeeded` or `failed` make of its value or error, or of the
   * TimeoutError when it overruns its budget. Not an async function: the promise it returns is also the
   * one the deadline settles, so a handler's run costs one promise and one reaction instead of an async
   * layer, a deadline wrapper and its closures per event (measured: about a third of the runtime's cost
   * per S3 record). The budget is watched by one timer shared by every handler in flight, not a timer
   * and a `Promise.race` per event (measured: about 1–2 µs per event, more than a simple handler).
   */
  function settleHandler(
    event: unknown,
    context: RunContext,
    succeeded: (value: unknown) => Outcome | Promise<Outcome>,
    failed: (error: unknown) => Outcome | Promise<Outcome>,
  ): Promise<Outcome> {
    const handler = fn.handler as (event: unknown, ctx: Context) => unknown;
    const budget = context.budget;
    return new Promise<Outcome>((resolve) => {
      let watched: Watched | undefined;
      let settled = false;
      const fail = (error: unknown) => {
        if (settled) return;
        settled = true;
        if (watched) deadlines.unwatch(watched);
        resolve(failed(error));
      };
      const succeed = (value: unknown) => {
        if (settled) return;
        settled = true;
        if (watched) deadlines.unwatch(watched);
        let outcome: Outcome | Promise<Outcome>;
        try {
          outcome = succeeded(value);
        } catch (error) {
          outcome = failed(error);
        }
        resolve(outcome);
      };
      if (Number.isFinite(budget)) {
        watched = deadlines.watch(context.deadline - timeoutMargin, () => {
          const error = new TimeoutError(Math.max(0, Math.round(budget)));
          context[ABORT](error);
          fail(error);
        });
      }
      let result: unknown;
      try {
        result = handler(event, context);
      } catch (error) {
        fail(error);
        return;
      }
      if (isPromiseLike(result)) result.then(succeed, fail);
      else succeed(result);
    });
  }

  /** Runs one object, schedule or invoke event. Not async: see {@link settleHandler}. */
  function runSingle(
    data: ObjectEventData | Extract<NeutralEventData, { kind: "schedule" | "invoke" }>,
    invocation: InvocationInfo,
  ): Promise<Outcome> {
    let context: RunContext;
    let event: unknown;
    let inputHops: Promise<number> | undefined;
    try {
      context = makeContext(invocation);
      event =
        data.kind === "object.created"
          ? withObjectReaders(data as ObjectEventData & { kind: "object.created" }, requireStore("read objects"), context)
          : data;
      // Outputs carry a hop count one above their input's, so a loop through buckets stops at maxHops.
      // The input's count is read while the handler runs, and only when there is an output to count.
      inputHops =
        data.kind === "object.created" && fn.destination !== undefined && fn.destination.kind !== "custom"
          ? readHops(requireStore("read objects"), data)
          : undefined;
    } catch (error) {
      return Promise.reject(error);
    }
    return settleHandler(
      event,
      context,
      (value) =>
        // Nothing to write (the common case for a handler with no destination): no further await.
        !fn.destination && context[QUARANTINED]().length === 0 && maxHops > 0
          ? value === undefined
            ? OK_WITHOUT_VALUE
            : { status: "ok", value }
          : afterHandler(data, value, inputHops, context),
      (error) => {
        if (data.kind === "object.created" && isOwnObjectMissing(error, data)) {
          // The object was deleted between the event and the read: nothing to process, and a retry would not help.
          context.log.warn("source object no longer exists; event skipped", { bucket: data.bucket, key: data.key });
          return { status: "ignored", reason: "source object no longer exists" };
        }
        return handlerFailed(data, error, context);
      },
    );
  }

  /** What follows a handler that succeeded with an output or quarantined records to write. */
  async function afterHandler(
    data: NeutralEventData,
    value: unknown,
    inputHops: Promise<number> | undefined,
    context: RunContext,
  ): Promise<Outcome> {
    const hops = inputHops === undefined ? 0 : await inputHops;
    if (hops >= maxHops) {
      const error = new SluiceError(
        "HOP_LIMIT",
        `input has been through ${hops} functions already (maxHops ${maxHops}): not writing again`,
      );
      context.log.error("hop limit reached; the output is not written", { hops });
      // Not retried: a retry would meet the same limit. Reported, so the loop is seen.
      const routed = await handlerFailed(data, error, context);
      return routed.status === "failed" ? { status: "ignored", reason: error.message } : routed;
    }
    try {
      if (fn.destination && value !== undefined) {
        await deliver(fn.destination, { event: data, result: value }, context, "destination", { [HOPS_METADATA]: String(hops + 1) });
      }
      const quarantined = context[QUARANTINED]();
      if (quarantined.length > 0) await reportFailures(data, quarantined.map(toFailureRecord), context);
    } catch (error) {
      context.log.error("writing output failed; the event will be retried", { error: serializeError(error) });
      return { status: "failed", error };
    }
    return { status: "ok", value };
  }

  async function handlerFailed(data: NeutralEventData, error: unknown, context: RunContext): Promise<Outcome> {
    context.log.error("handler failed", { error: serializeError(error) });
    if (!fn.onFailure) return { status: "failed", error };
    try {
      await reportFailures(data, [...context[QUARANTINED]().map(toFailureRecord), { error: serializeError(error) }], context);
    } catch (routeError) {
      context.log.error("onFailure could not take the failure; the event will be retried", { error: serializeError(routeError) });
      return { status: "failed", error };
    }
    return { status: "routed", error };
  }

  /** Runs one HTTP request. Not async: see {@link settleHandler}. */
  function runHttp(data: HttpEventData, invocation: InvocationInfo): Promise<Outcome> {
    let route: ReturnType<typeof matchHttpRoute>;
    try {
      route = matchHttpRoute(trigger as HttpTrigger, data);
    } catch (error) {
      return Promise.reject(error);
    }
    if (route.status !== 200) {
      return Promise.resolve({
        status: "http",
        response: {
          status: route.status,
          headers: { "content-type": "application/json" },
          cookies: [],
          body: JSON.stringify({ error: route.message }),
        },
      });
    }
    let context: RunContext;
    let event: ReturnType<typeof withHttpReaders>;
    try {
      context = makeContext(invocation);
      event = withHttpReaders(data, options.maxHttpBodyBytes);
    } catch (error) {
      return Promise.reject(error);
    }
    if (route.params) event.params = data.params ? { ...route.params, ...data.params } : route.params;
    const failed = (error: unknown): Outcome => {
      if (!(error instanceof SluiceError && error.code === "HTTP")) context.log.error("handler failed", { error: serializeError(error) });
      return { status: "http", response: httpErrorResult(error) };
    };
    return settleHandler(
      event,
      context,
      (value) => {
        const response = httpResultOf(value);
        // Nothing to await (no web Response body, no output, nothing quarantined): answer now.
        if (!isPromiseLike(response) && !(fn.destination && value !== undefined) && context[QUARANTINED]().length === 0) {
          return { status: "http", response };
        }
        return afterHttpHandler(data, value, response, context).catch(failed);
      },
      failed,
    );
  }

  async function afterHttpHandler(
    data: HttpEventData,
    value: unknown,
    result: HttpResult | Promise<HttpResult>,
    context: RunContext,
  ): Promise<Outcome> {
    const response = await result;
    if (fn.destination && value !== undefined) await deliver(fn.destination, { event: data, result: value }, context, "destination");
    const quarantined = context[QUARANTINED]();
    if (quarantined.length > 0) await reportFailures(data, quarantined.map(toFailureRecord), context);
    return { status: "http", response };
  }

  async function runMessages(received: MessagesEventData, invocation: InvocationInfo): Promise<Outcome> {
    const context = makeContext(invocation);
    const { data, unresolved } = await resolveClaimChecks(received);
    const tracked = withMessageReaders(data);
    let value: unknown;
    if (data.messages.length > 0 || received.messages.length === 0) {
      try {
        value = await callHandler(tracked.event, context);
      } catch (error) {
        context.log.error("handler failed; every message not already failed fails with it", { error: serializeError(error) });
        tracked.failAll(error);
      }
    }
    const hops = fn.destination && value !== undefined ? messageHops(received) : 0;
    try {
      if (fn.destination && value !== undefined) {
        if (hops >= maxHops) {
          const error = new SluiceError(
            "HOP_LIMIT",
            `input has been through ${hops} functions already (maxHops ${maxHops}): not sending again`,
          );
          context.log.error("hop limit reached; the output is not sent", { hops });
          context.quarantine({ error });
        } else {
          await deliver(fn.destination, { event: data, result: value }, context, "destination", { [HOPS_METADATA]: String(hops + 1) });
        }
      }
      const quarantined = context[QUARANTINED]();
      if (quarantined.length > 0) await reportFailures(summary(data), quarantined.map(toFailureRecord), context);
    } catch (error) {
      if (invocation.redelivers === false && fn.onFailure) {
        // The platform will not deliver this batch again (Event Hubs checkpoints past it): the output's
        // failure is every message's, and each goes to onFailure now rather than being lost.
        context.log.error("writing output failed; the batch goes to onFailure, as it will not be delivered again", {
          error: serializeError(error),
        });
        try {
          await reportFailures(
            summary(data),
            received.messages.map((message) => messageFailure(message, error)),
            context,
          );
          return { status: "messages", failedMessageIds: [], routedMessageIds: received.messages.map((message) => message.id) };
        } catch (routeError) {
          context.log.error("onFailure could not take the batch either", { error: serializeError(routeError) });
          return { status: "failed", error };
        }
      }
      context.log.error("writing output failed; the batch will be retried", { error: serializeError(error) });
      return { status: "failed", error };
    }
    const failures = unresolved.length === 0 ? tracked.failures() : inReceivedOrder(received, [...unresolved, ...tracked.failures()]);
    const redelivers = invocation.redelivers !== false;
    const toRoute = failures.filter(
      ({ message }) => !redelivers || (fn.maxAttempts !== undefined && message.attempt !== undefined && message.attempt >= fn.maxAttempts),
    );
    const toRetry = failures.filter((failure) => !toRoute.includes(failure));
    const routedMessageIds: string[] = [];
    if (toRoute.length > 0) {
      const records = toRoute.map(({ message, reason }) => messageFailure(message, reason));
      try {
        if (!fn.onFailure) throw new SluiceError("NO_ON_FAILURE", "no onFailure destination is defined");
        await reportFailures(summary(data), records, context);
        routedMessageIds.push(...toRoute.map(({ message }) => message.id));
      } catch (error) {
        context.log.error("failed messages could not be routed to onFailure", {
          error: serializeError(error),
          messageIds: toRoute.map(({ message }) => message.id),
        });
        if (!redelivers) return { status: "failed", error };
        toRetry.push(...toRoute);
      }
    }
    if (toRetry.length > 0) {
      context.log.warn("messages failed and will be retried", { messageIds: toRetry.map(({ message }) => message.id) });
    }
    return {
      status: "messages",
      failedMessageIds: failures.filter((failure) => toRetry.includes(failure)).map(({ message }) => message.id),
      routedMessageIds,
    };
  }

  async function reportFailures(data: NeutralEventData | ReturnType<typeof summary>, failures: FailureRecord[], context: Context) {
    if (!fn.onFailure) {
      // Nowhere to send them: say so loudly, with what identifies them but not their content.
      context.log.warn("records quarantined but the function has no onFailure destination", {
        count: failures.length,
        lines: failures.map((failure) => failure.line).filter((line) => line !== undefined),
      });
      return;
    }
    const report: FailureReport = {
      function: fn.name,
      provider: options.provider,
      invocationId: context.invocationId,
      time: new Date(now()).toISOString(),
      event: data,
      failures,
    };
    await deliver(fn.onFailure, report, context, "onFailure");
  }

  async function deliver(
    destination: Destination,
    args: unknown,
    context: Context,
    role: "destination" | "onFailure",
    metadata?: Record<string, string>,
  ) {
    if (destination.kind === "custom") {
      await destination.deliver(args, context);
      return;
    }
    if (destination.kind !== "objectStore") {
      await sendMessages(destination, args, context, role, metadata?.[HOPS_METADATA] ?? "1");
      return;
    }
    const store = requireStore(`write to ${destination.bucket}`);
    const key = destination.key(args);
    if (typeof key !== "string" || key === "") {
      throw new SluiceError("BAD_OUTPUT_KEY", `${role} key function returned ${JSON.stringify(key)}; a non-empty string is needed`);
    }
    const { body, contentType } =
      role === "onFailure"
        ? { body: failureLines(args as FailureReport), contentType: destination.contentType ?? "application/x-ndjson" }
        : serializeResult((args as { result: unknown }).result, destination.contentType);
    try {
      await store.put(destination.bucket, key, body, metadata ? { contentType, metadata } : { contentType });
    } catch (error) {
      throw error instanceof SluiceError ? error : new StorageError("put", destination.bucket, key, { cause: error });
    }
    context.log.debug(`${role} written`, { bucket: destination.bucket, key });
  }

  async function sendMessages(
    destination: MessageDestination,
    args: unknown,
    context: Context,
    role: "destination" | "onFailure",
    hops: string,
  ) {
    const sender = options.messaging;
    if (!sender) {
      throw new SluiceError(
        "NO_MESSAGING",
        `${options.provider} runtime has no messaging, needed to send to ${destination.kind} ${destination.name}`,
      );
    }
    const target = { kind: destination.kind, name: destination.name };
    const items = destination.messages
      ? destination.messages(args)
      : role === "onFailure"
        ? failureObjects(args as FailureReport)
        : Array.isArray((args as { result: unknown }).result)
          ? ((args as { result: unknown[] }).result as unknown[])
          : [(args as { result: unknown }).result];
    if (!Array.isArray(items)) {
      throw new SluiceError("BAD_MESSAGES", `${role} messages function returned ${typeof items}; an array is needed`);
    }
    const limits = sender.limits(target);
    const size = (message: OutgoingMessage) => (sender.size ? sender.size(target, message) : defaultMessageSize(message));
    const messages: OutgoingMessage[] = [];
    const where = `${role} ${destination.kind} ${destination.name}`;
    // Each message's identity derives from the input's and its position in the output, so a redelivered
    // input sends messages with the same ids (services that deduplicate, such as SQS FIFO, drop the
    // repeats) while two equal messages of one output stay two messages.
    const origin = Buffer.from(
      await crypto.subtle.digest(
        "SHA-256",
        new TextEncoder().encode(`${fn.name}\n${role}\n${destination.name}\n${inputIdentity(args, context)}`),
      ),
    ).toString("hex");
    for (const [index, item] of items.entries()) {
      const given: unknown = destination.attributes?.(item, args);
      if (given !== undefined && (typeof given !== "object" || given === null || Array.isArray(given))) {
        throw new SluiceError(
          "BAD_MESSAGE",
          `${where}: attributes of message ${index} must be an object of strings, got ${describe(given)}`,
        );
      }
      for (const [name, value] of Object.entries(given ?? {})) {
        if (typeof value !== "string") {
          throw new SluiceError(
            "BAD_MESSAGE",
            `${where}: attribute ${JSON.stringify(name)} of message ${index} must be a string, got ${describe(value)}`,
          );
        }
      }
      const attributes: Record<string, string> = { ...(given as Record<string, string> | undefined) };
      attributes[HOPS_ATTRIBUTE] = hops;
      let body: Uint8Array;
      try {
        body = messageBody(item);
      } catch (error) {
        throw error instanceof SluiceError
          ? error
          : new SluiceError("BAD_MESSAGE", `${where}: message ${index} cannot be serialized as JSON`, { cause: error });
      }
      const message: OutgoingMessage = { body, attributes, id: `${origin.slice(0, 48)}-${index}` };
      const key: unknown = destination.key?.(item, args);
      if (key !== undefined && typeof key !== "string") {
        throw new SluiceError("BAD_MESSAGE", `${where}: key of message ${index} must be a string or undefined, got ${describe(key)}`);
      }
      if (key !== undefined) message.key = key;
      messages.push(
        size(message) > limits.maxMessageBytes ? await claimCheck(destination, message, item, limits.maxMessageBytes, size) : message,
      );
    }
    await sendAll(sender, target, messages, { ...options.messageRetry, remainingMs: context.remainingMs });
    context.log.debug(`${role} sent`, { [destination.kind]: destination.name, count: messages.length });
  }

  /** Writes an oversized payload to the claim-check bucket and returns the message that points to it. */
  async function claimCheck(
    destination: MessageDestination,
    message: OutgoingMessage,
    item: unknown,
    limit: number,
    size: (message: OutgoingMessage) => number,
  ): Promise<OutgoingMessage> {
    if (!destination.claimCheck) {
      throw new SluiceError(
        "MESSAGE_TOO_LARGE",
        `a message to ${destination.kind} ${destination.name} is ${size(message)} bytes, over its limit of ${limit}; give the destination a claimCheck bucket`,
      );
    }
    const store = requireStore(`write claim checks to ${destination.claimCheck.bucket}`);
    const digest = Buffer.from(await crypto.subtle.digest("SHA-256", message.body)).toString("hex");
    const key = `${destination.claimCheck.prefix}${digest}`;
    const contentType =
      typeof item === "string" ? "text/plain; charset=utf-8" : item instanceof Uint8Array ? "application/octet-stream" : "application/json";
    try {
      await store.put(destination.claimCheck.bucket, key, message.body, { contentType });
    } catch (error) {
      throw error instanceof SluiceError ? error : new StorageError("put", destination.claimCheck.bucket, key, { cause: error });
    }
    const pointer: ClaimCheck = {
      provider: options.provider,
      bucket: destination.claimCheck.bucket,
      key,
      size: message.body.byteLength,
      contentType,
    };
    const checked: OutgoingMessage = { body: messageBody(pointer), attributes: { ...message.attributes, [CLAIM_CHECK_ATTRIBUTE]: "1" } };
    if (message.key !== undefined) checked.key = message.key;
    if (size(checked) > limit) {
      throw new SluiceError(
        "MESSAGE_TOO_LARGE",
        `even the claim check for ${destination.kind} ${destination.name} is over its limit of ${limit} bytes (attributes too large?)`,
      );
    }
    return checked;
  }

  /**
   * Replaces claim-check bodies with the payloads they point to. A message whose payload cannot be read
   * fails alone (it is retried, and routed to `onFailure` after `maxAttempts`).
   */
  async function resolveClaimChecks(
    data: MessagesEventData,
  ): Promise<{ data: MessagesEventData; unresolved: Array<{ message: MessageData; reason: unknown }> }> {
    if (!data.messages.some((message) => message.attributes[CLAIM_CHECK_ATTRIBUTE] !== undefined)) return { data, unresolved: [] };
    const unresolved: Array<{ message: MessageData; reason: unknown }> = [];
    const messages: MessageData[] = [];
    for (const message of data.messages) {
      if (message.attributes[CLAIM_CHECK_ATTRIBUTE] === undefined) {
        messages.push(message);
        continue;
      }
      try {
        const pointer = JSON.parse(utf8.decode(message.body)) as Partial<ClaimCheck>;
        if (typeof pointer.bucket !== "string" || typeof pointer.key !== "string") {
          throw new SluiceError("BAD_CLAIM_CHECK", `message ${message.id} is marked as a claim check but names no bucket and key`);
        }
        const stream = await requireStore("read claim checks").get(pointer.bucket, pointer.key);
        const body = new Uint8Array(await new Response(stream).arrayBuffer());
        const { [CLAIM_CHECK_ATTRIBUTE]: _marker, ...attributes } = message.attributes;
        messages.push({ ...message, body, attributes });
      } catch (reason) {
        unresolved.push({ message, reason });
      }
    }
    return { data: { ...data, messages }, unresolved };
  }

  return { fn, log, dispatch };
}

const utf8 = new TextDecoder();

/** A value's type for an error message, without its content (which may be a payload). */
function describe(value: unknown): string {
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
}

function inReceivedOrder<T extends { message: MessageData }>(received: MessagesEventData, failures: T[]): T[] {
  const position = new Map(received.messages.map((message, index) => [message.id, index]));
  return failures.sort((a, b) => (position.get(a.message.id) ?? 0) - (position.get(b.message.id) ?? 0));
}

/**
 * What identifies the input a destination's messages come from: the object (and its version), the
 * batch's message ids, or the event's id; the invocation only when the event has none.
 */
function inputIdentity(args: unknown, context: Context): string {
  const event = (args as { event?: Record<string, unknown> }).event ?? {};
  if (event.kind === "object.created" || event.kind === "object.deleted") {
    return `${event.kind}\n${event.bucket}\n${event.key}\n${event.version ?? event.etag ?? event.time ?? ""}`;
  }
  if (event.kind === "messages" && Array.isArray(event.messages)) {
    return `messages\n${event.name}\n${(event.messages as MessageData[]).map((message) => message.id).join("\n")}`;
  }
  return typeof event.id === "string" && event.id !== "" ? `${String(event.kind)}\n${event.id}` : `invocation\n${context.invocationId}`;
}

/** The hop count a batch carries: the highest of its messages'. */
function messageHops(data: MessagesEventData): number {
  let hops = 0;
  for (const message of data.messages) {
    const value = Number(message.attributes[HOPS_ATTRIBUTE] ?? 0);
    if (Number.isSafeInteger(value) && value > hops) hops = value;
  }
  return hops;
}

/** One object per failure, each standing on its own (the message form of {@link failureLines}). */
function failureObjects(report: FailureReport): Array<Record<string, unknown>> {
  const event = report.event as Record<string, unknown>;
  const origin: Record<string, unknown> = { kind: event.kind };
  for (const field of ["id", "bucket", "key", "version", "name", "source", "method", "path", "schedule"]) {
    if (event[field] !== undefined) origin[field] = event[field];
  }
  return report.failures.map((failure) => ({
    function: report.function,
    provider: report.provider,
    invocationId: report.invocationId,
    time: report.time,
    event: origin,
    ...failure,
  }));
}

/** Why an event does not reach this function's handler, or `undefined` when it does. */
function reasonToSkip(trigger: Trigger, event: NeutralEventData): string | undefined {
  if (event.kind === "object.created" || event.kind === "object.deleted") {
    if (trigger.kind !== "object.created" && trigger.kind !== "object.deleted") throw kindMismatch(trigger, event);
    if (trigger.kind !== event.kind) return `${event.kind} event for a function triggered by ${trigger.kind}`;
    return objectOutsideFilter(trigger, event);
  }
  if (trigger.kind !== event.kind) throw kindMismatch(trigger, event);
  return undefined;
}

function objectOutsideFilter(filter: ObjectTriggerOptions, event: ObjectEventData): string | undefined {
  if (event.bucket !== filter.bucket) return `bucket ${event.bucket} is not ${filter.bucket}`;
  if (filter.prefix && !event.key.startsWith(filter.prefix)) return `key does not start with ${filter.prefix}`;
  if (filter.suffix && !event.key.endsWith(filter.suffix)) return `key does not end with ${filter.suffix}`;
  return undefined;
}

function kindMismatch(trigger: Trigger, event: NeutralEventData): EventTranslationError {
  return new EventTranslationError({
    provider: event.provider,
    source: "neutral",
    field: "kind",
    reason: `a ${event.kind} event cannot reach a function triggered by ${trigger.kind}`,
  });
}

function isOwnObjectMissing(error: unknown, data: ObjectEventData): boolean {
  return error instanceof ObjectNotFoundError && error.bucket === data.bucket && error.key === data.key;
}

/**
 * Matches a request against the trigger's path template and methods.
 *
 * @example
 * ```ts
 * matchHttpRoute(triggers.http({ path: "/items/{id}" }), { method: "GET", path: "/items/7" }); // { status: 200, params: { id: "7" } }
 * ```
 */
export function matchHttpRoute(
  trigger: HttpTrigger,
  request: { method: string; path: string },
): { status: 200; params?: Record<string, string> } | { status: 404 | 405; message: string } {
  let params: Record<string, string> | undefined;
  if (trigger.path) {
    const template = routeTemplate(trigger.path);
    const matched = template.greedyLastOnly ? matchSegments(template.parts, request.path) : matchBySplit(template, request.path);
    if (matched === undefined) return { status: 404, message: `no route for ${request.path}` };
    params = matched === NO_PARAMS ? undefined : matched;
  }
  if (trigger.methods && !trigger.methods.includes(request.method.toUpperCase())) {
    return { status: 405, message: `method ${request.method} not allowed` };
  }
  return params ? { status: 200, params } : { status: 200 };
}

/** One segment of a route template: a literal, `{name}`, or the greedy `{name+}`. */
interface RoutePart {
  literal: string;
  param?: string;
  greedy?: boolean;
}

interface RouteTemplate {
  parts: RoutePart[];
  /** Whether the last part is greedy. */
  greedy: boolean;
  /** Whether no part but the last is greedy: the usual template, matched without splitting the path. */
  greedyLastOnly: boolean;
}

/** A match without parameters (a template of literals). */
const NO_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/**
 * Matches the path segment by segment with `indexOf`, without an array of its segments per request:
 * the same result as {@link matchBySplit} for every template whose only greedy part is the last.
 */
function matchSegments(parts: RoutePart[], path: string): Record<string, string> | undefined {
  let params: Record<string, string> | undefined;
  let start = 0;
  for (let index = 0; index < parts.length; index++) {
    const part = parts[index] as RoutePart;
    if (start > path.length) return undefined; // fewer segments than the template
    let end = path.indexOf("/", start);
    if (end === -1) end = path.length;
    if (part.param === undefined) {
      if (end - start !== part.literal.length || !path.startsWith(part.literal, start)) return undefined;
    } else {
      params ??= {};
      params[part.param] = decodeSafely(part.greedy ? path.slice(start) : path.slice(start, end));
      if (part.greedy) return params;
    }
    start = end + 1;
  }
  return start > path.length ? (params ?? NO_PARAMS) : undefined; // more segments than the template
}

/** The general match, for templates with a greedy part before the last. */
function matchBySplit(template: RouteTemplate, path: string): Record<string, string> | undefined {
  let params: Record<string, string> | undefined;
  const actual = path.split("/");
  if (template.greedy ? actual.length < template.parts.length : actual.length !== template.parts.length) return undefined;
  for (let index = 0; index < template.parts.length; index++) {
    const part = template.parts[index] as RoutePart;
    const value = actual[index] as string;
    if (part.param === undefined) {
      if (part.literal !== value) return undefined;
      continue;
    }
    params ??= {};
    params[part.param] = decodeSafely(part.greedy ? actual.slice(index).join("/") : value);
  }
  return params ?? NO_PARAMS;
}

// A trigger's path template parsed once, not on every request (its parts' braces were checked per request).
const templates = new Map<string, RouteTemplate>();

function routeTemplate(path: string): RouteTemplate {
  let template = templates.get(path);
  if (!template) {
    const parts = path.split("/").map((part): RoutePart => {
      if (!(part.startsWith("{") && part.endsWith("}"))) return { literal: part };
      const greedy = part.endsWith("+}");
      return { literal: part, param: part.slice(1, greedy ? -2 : -1), greedy };
    });
    template = {
      parts,
      greedy: parts[parts.length - 1]?.literal.endsWith("+}") ?? false,
      greedyLastOnly: parts.every((part, index) => !part.greedy || index === parts.length - 1),
    };
    templates.set(path, template);
  }
  return template;
}

function decodeSafely(value: string): string {
  if (!value.includes("%")) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function toFailureRecord(item: QuarantineItem): FailureRecord {
  const record: FailureRecord = { error: serializeError(item.error) };
  if (item.line !== undefined) record.line = item.line;
  if (item.raw !== undefined)
    record.raw = item.raw.length > OVERLONG_LINE_KEPT * 16 ? item.raw.slice(0, OVERLONG_LINE_KEPT * 16) : item.raw;
  if (item.data !== undefined) record.data = item.data;
  return record;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function messageFailure(message: MessageData, reason: unknown): FailureRecord {
  const record: FailureRecord = { error: serializeError(reason), messageId: message.id };
  try {
    record.raw = strictUtf8.decode(message.body);
  } catch {
    // Not text: keep the bytes exactly, so that nothing is lost.
    record.data = { bodyBase64: Buffer.from(message.body).toString("base64") };
  }
  return record;
}

/** A message batch without its messages, for failure reports that carry the failed ones themselves. */
function summary(data: MessagesEventData) {
  return { kind: data.kind, source: data.source, name: data.name, provider: data.provider };
}

/** One failure a line, each line standing on its own with the function and event it came from. */
function failureLines(report: FailureReport): string {
  return failureObjects(report)
    .map((failure) => JSON.stringify(failure))
    .join("\n")
    .concat("\n");
}
