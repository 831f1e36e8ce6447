import type { ProviderName } from "./errors.js";
import type { ObjectStore } from "./store.js";

export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A structured logger: one JSON object per line. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line. */
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  /** Lines below this level are dropped. Default `"info"`. */
  level?: LogLevel;
  /** Where lines go. Default: `process.stdout`-like `console.log`. */
  write?: (line: string) => void;
  /** Fields on every line. */
  fields?: Record<string, unknown>;
  now?: () => number;
}

/**
 * Creates a logger that writes one JSON object per line.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: "debug", fields: { fn: "analyze-sensors" } });
 * log.info("report written", { key: "reports/a.json" });
 * // {"level":"info","time":"2026-11-23T14:05:00.000Z","msg":"report written","fn":"analyze-sensors","key":"reports/a.json"}
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LEVEL_ORDER[options.level ?? "info"];
  const write = options.write ?? ((line: string) => console.log(line));
  const now = options.now ?? Date.now;
  const base = options.fields ?? {};
  const emit = (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (LEVEL_ORDER[level] < threshold) return;
    write(toJsonLine({ level, time: new Date(now()).toISOString(), msg: message, ...base, ...fields }));
  };
  return {
    debug: (message, fields) => emit("debug", message, fields),
    info: (message, fields) => emit("info", message, fields),
    warn: (message, fields) => emit("warn", message, fields),
    error: (message, fields) => emit("error", message, fields),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}

function toJsonLine(record: Record<string, unknown>): string {
  try {
    return JSON.stringify(record, (_key, value) => {
      if (typeof value === "bigint") return value.toString();
      if (value instanceof Error) return { name: value.name, message: value.message };
      return value;
    });
  } catch {
    return JSON.stringify({ level: record.level, time: record.time, msg: record.msg, note: "fields not serialisable" });
  }
}

/**
 * A logger that drops everything; for tests and benchmarks.
 *
 * @example
 * ```ts
 * toLocal(fn, { log: silentLogger });
 * ```
 */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

/** One record that the handler could not process, routed to `onFailure` while the rest completes. */
export interface QuarantineItem {
  /** Why it failed. */
  error: unknown;
  /** 1-based line number in the input object, for line-oriented inputs. */
  line?: number;
  /** The raw input (a line, a message body); truncated when written. */
  raw?: string;
  /** Anything else worth keeping with the failure. */
  data?: unknown;
}

/** What a handler gets besides its event. */
export interface Context {
  provider: ProviderName;
  functionName: string;
  /** The platform's id for this invocation (request id, event id). */
  invocationId: string;
  /** Epoch milliseconds at which the platform stops the function. */
  deadline: number;
  /** Milliseconds left until {@link Context.deadline}. */
  remainingMs(): number;
  /** Aborts a safety margin before the deadline, so work can stop cleanly. */
  signal: AbortSignal;
  log: Logger;
  /**
   * Sends one bad record to the function's `onFailure` destination and carries on. The invocation still
   * succeeds; what was quarantined is never dropped.
   */
  quarantine(item: QuarantineItem): void;
  /**
   * The running provider's object store (S3, Cloud Storage, Blob storage, the filesystem), for handlers
   * that read or write other objects than their event's, such as a roll-up over several reports.
   */
  store: ObjectStore;
  /** The native event and context, as the platform delivered them: an escape hatch. */
  native: { event: unknown; context: unknown };
}
