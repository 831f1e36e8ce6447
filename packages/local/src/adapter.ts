import { randomId } from "./node-crypto.js";
import {
  ConfigurationError,
  createLogger,
  createRuntime,
  type Logger,
  type LogLevel,
  type MessagesEventData,
  type ObjectEventData,
  type ObjectStore,
  type Outcome,
  type SluiceFunction,
  type Trigger,
} from "@sluice/core";
import { dirname, join, resolve } from "node:path";
import { MessageWatcher, type MessageWatchOptions } from "./message-watch.js";
import { LocalMessaging } from "./messaging.js";
import { LocalObjectStore } from "./storage.js";
import { fromLocalEvent } from "./triggers/event-file.js";
import { BucketWatcher } from "./watch.js";

export interface LocalOptions {
  /** Directory holding one directory per bucket. Default `$SLUICE_LOCAL_ROOT` or `.sluice/buckets`. */
  root?: string;
  /** Another store to use instead of the filesystem. */
  store?: ObjectStore;
  log?: Logger;
  /** Used when `log` is not given. Default `"info"`. */
  logLevel?: LogLevel;
  /** Milliseconds an invocation may run, as a cloud's timeout would. Default: no limit. */
  timeoutMs?: number;
  /**
   * Where `stream` and `queue` destinations send, and messages triggers read. Default: a
   * {@link LocalMessaging} under `$SLUICE_LOCAL_MESSAGES`, else a `messages` directory beside `root`
   * (`.sluice/messages` by default).
   */
  messaging?: LocalMessaging;
}

export interface WatchOptions extends Pick<MessageWatchOptions, "batchSize"> {
  /** Milliseconds between directory scans. Default 100. */
  intervalMs?: number;
  /** Also run on files already in the bucket when watching starts. Default false. */
  existing?: boolean;
  /** How many events run at once. Default 2. */
  concurrency?: number;
  /** How many times a failed event is retried, as a cloud would. Default 2. */
  retries?: number;
  /** Called after each event has run (or given up). */
  onOutcome?: (event: ObjectEventData, outcome: Outcome) => void;
  /** For a messages trigger: called after each batch has run. */
  onBatch?: (event: MessagesEventData, outcome: Outcome) => void;
}

/** A function running on this machine. */
export interface LocalFunction<T extends Trigger = Trigger, R = unknown> {
  readonly __sluice: "local";
  readonly fn: SluiceFunction<T, R>;
  readonly store: ObjectStore;
  /** Runs the function once on an event file's content (a neutral event as JSON). */
  invoke(event: unknown, options?: { invocationId?: string }): Promise<Outcome>;
  readonly messaging: LocalMessaging;
  /**
   * Watches the trigger's bucket and runs the function on each object created (or deleted) there; for a
   * messages trigger, reads the local stream, queue or topic of that name a batch at a time.
   */
  watch(options?: WatchOptions): LocalWatch;
}

export interface LocalWatch {
  /** Resolves once every event seen so far has run and nothing is queued. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Runs a Sluice function on this machine, on the filesystem: the embedded default for development,
 * tests and the demo.
 *
 * @example
 * ```ts
 * const local = toLocal(analyzeSensors, { root: ".sluice/buckets" });
 * const watch = local.watch({ onOutcome: (event, outcome) => console.log(event.key, outcome.status) });
 * ```
 */
export function toLocal<T extends Trigger, R>(fn: SluiceFunction<T, R>, options: LocalOptions = {}): LocalFunction<T, R> {
  const root = options.root ?? process.env.SLUICE_LOCAL_ROOT ?? ".sluice/buckets";
  const store = options.store ?? new LocalObjectStore({ root });
  const log = options.log ?? createLogger({ level: options.logLevel ?? "info" });
  const messaging =
    options.messaging ?? new LocalMessaging({ root: process.env.SLUICE_LOCAL_MESSAGES ?? join(dirname(resolve(root)), "messages") });
  const runtime = createRuntime(fn, { provider: "local", store, log, messaging });
  const nowIso = () => new Date().toISOString();
  const deadline = () => (options.timeoutMs === undefined ? undefined : Date.now() + options.timeoutMs);

  const invoke = async (event: unknown, invokeOptions: { invocationId?: string } = {}): Promise<Outcome> => {
    const neutral = fromLocalEvent(event, nowIso);
    return runtime.dispatch(neutral, {
      invocationId: invokeOptions.invocationId ?? randomId(),
      deadline: deadline(),
      nativeEvent: event,
    });
  };

  const watch = (watchOptions: WatchOptions = {}): LocalWatch => {
    const trigger = fn.trigger as Trigger;
    if (trigger.kind === "messages") {
      const watcher = new MessageWatcher(runtime, trigger, messaging, log, {
        intervalMs: watchOptions.intervalMs,
        batchSize: watchOptions.batchSize,
        retries: watchOptions.retries,
        timeoutMs: options.timeoutMs,
        onOutcome: watchOptions.onBatch,
      }).start();
      return { idle: () => watcher.idle(), close: () => watcher.close() };
    }
    if (trigger.kind !== "object.created" && trigger.kind !== "object.deleted") {
      throw new ConfigurationError(`function ${fn.name}: only object triggers can watch a bucket (this one is ${trigger.kind})`);
    }
    if (!(store instanceof LocalObjectStore)) throw new ConfigurationError("watch() needs the filesystem store");
    const concurrency = Math.max(1, watchOptions.concurrency ?? 2);
    const retries = Math.max(0, watchOptions.retries ?? 2);
    const queue: ObjectEventData[] = [];
    let running = 0;
    let waiters: Array<() => void> = [];

    const settleIfIdle = () => {
      if (running === 0 && queue.length === 0) {
        for (const wake of waiters) wake();
        waiters = [];
      }
    };
    const runOne = async (event: ObjectEventData) => {
      let outcome: Outcome = { status: "failed", error: new Error("not run") };
      for (let attempt = 0; attempt <= retries; attempt++) {
        outcome = await runtime.dispatch(event, { invocationId: randomId(), deadline: deadline(), nativeEvent: event });
        if (outcome.status !== "failed") break;
        if (attempt < retries) log.warn("event failed; retrying", { key: event.key, attempt: attempt + 1 });
      }
      watchOptions.onOutcome?.(event, outcome);
    };
    const pump = () => {
      while (running < concurrency && queue.length > 0) {
        const event = queue.shift() as ObjectEventData;
        running++;
        runOne(event)
          .catch((error) => log.error("event could not be run", { key: event.key, error }))
          .finally(() => {
            running--;
            pump();
            settleIfIdle();
          });
      }
    };
    const watcher = new BucketWatcher({
      directory: store.bucketPath(trigger.bucket),
      bucket: trigger.bucket,
      intervalMs: watchOptions.intervalMs,
      existing: watchOptions.existing,
      onEvent: (event) => {
        queue.push(event);
        pump();
      },
      onError: (error) => log.error("watching the bucket failed", { error }),
    }).start();

    return {
      idle: async () => {
        // Let one more scan run first, so files written just before the call are seen.
        await watcher.scan();
        await watcher.scan();
        if (running === 0 && queue.length === 0) return;
        await new Promise<void>((resolve) => waiters.push(resolve));
      },
      close: async () => {
        await watcher.close();
        if (running > 0 || queue.length > 0) await new Promise<void>((resolve) => waiters.push(resolve));
      },
    };
  };

  return { __sluice: "local", fn, store, messaging, invoke, watch };
}

/**
 * Whether a value is a function wrapped by {@link toLocal}.
 *
 * @example
 * ```ts
 * if (isLocalFunction(value)) await value.invoke(eventFile);
 * ```
 */
export function isLocalFunction(value: unknown): value is LocalFunction {
  return typeof value === "object" && value !== null && (value as { __sluice?: unknown }).__sluice === "local";
}
