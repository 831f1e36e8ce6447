/** Which platform produced an event or ran a function. */
export type ProviderName = "aws" | "gcp" | "azure" | "local";

/**
 * The base of every error Sluice raises on purpose. Anything else escaping from Sluice is a bug.
 *
 * @example
 * ```ts
 * try { await run(); } catch (error) { if (error instanceof SluiceError) log(error.code); }
 * ```
 */
export class SluiceError extends Error {
  /** A stable, machine-readable name for the failure, e.g. `"EVENT_TRANSLATION"`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A native event could not be turned into a neutral one: it is malformed, or it is no source this
 * function's trigger accepts. It names the provider, the native source, the field and why.
 *
 * @example
 * ```ts
 * throw new EventTranslationError({ provider: "aws", source: "s3", field: "Records[0].s3.object.key", reason: "missing" });
 * ```
 */
export class EventTranslationError extends SluiceError {
  readonly provider: ProviderName;
  /** The native source, e.g. `"s3"`, `"sqs"`, `"storage-cloudevent"`, or `"unknown"` when none matched. */
  readonly source: string;
  /** Path of the offending field in the native payload, e.g. `"Records[0].s3.object.key"`; `""` for the whole payload. */
  readonly field: string;
  readonly reason: string;

  constructor(details: { provider: ProviderName; source: string; field: string; reason: string; cause?: unknown }) {
    const where = details.field ? ` at ${details.field}` : "";
    super("EVENT_TRANSLATION", `[${details.provider}/${details.source}] cannot translate event${where}: ${details.reason}`, {
      cause: details.cause,
    });
    this.provider = details.provider;
    this.source = details.source;
    this.field = details.field;
    this.reason = details.reason;
  }
}

/**
 * A function, trigger or destination is configured in a way that cannot work.
 *
 * @example
 * ```ts
 * throw new ConfigurationError("trigger.bucket must be a non-empty string");
 * ```
 */
export class ConfigurationError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("CONFIGURATION", message, options);
  }
}

/**
 * An object that an event or a caller refers to does not exist (any more).
 *
 * @example
 * ```ts
 * if (error instanceof ObjectNotFoundError) console.log(error.bucket, error.key);
 * ```
 */
export class ObjectNotFoundError extends SluiceError {
  readonly bucket: string;
  readonly key: string;

  constructor(bucket: string, key: string, options?: { cause?: unknown }) {
    super("OBJECT_NOT_FOUND", `object not found: ${bucket}/${key}`, options);
    this.bucket = bucket;
    this.key = key;
  }
}

/**
 * A bucket name or object key is not acceptable to a store, e.g. a local key that would escape the
 * bucket's directory.
 *
 * @example
 * ```ts
 * throw new InvalidKeyError("sensor-raw", "../etc/passwd", "contains a '..' segment");
 * ```
 */
export class InvalidKeyError extends SluiceError {
  readonly bucket: string;
  readonly key: string;

  constructor(bucket: string, key: string, reason: string) {
    super("INVALID_KEY", `invalid key ${JSON.stringify(key)} in bucket ${JSON.stringify(bucket)}: ${reason}`);
    this.bucket = bucket;
    this.key = key;
  }
}

/**
 * The handler ran past the invocation's deadline (less the safety margin).
 *
 * @example
 * ```ts
 * if (error instanceof TimeoutError) console.log(`gave up after ${error.budgetMs} ms`);
 * ```
 */
export class TimeoutError extends SluiceError {
  readonly budgetMs: number;

  constructor(budgetMs: number) {
    super("TIMEOUT", `handler did not finish within its ${budgetMs} ms budget`);
    this.budgetMs = budgetMs;
  }
}

/**
 * A store or destination could not be reached or refused a write. The invocation fails so that the
 * platform retries it; nothing is reported as done.
 *
 * @example
 * ```ts
 * throw new StorageError("put", "sensor-reports", "reports/a.json", { cause: error });
 * ```
 */
export class StorageError extends SluiceError {
  readonly operation: string;
  readonly bucket: string;
  readonly key: string | undefined;

  constructor(operation: string, bucket: string, key: string | undefined, options?: { cause?: unknown }) {
    const cause = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super("STORAGE", `${operation} ${bucket}${key === undefined ? "" : `/${key}`} failed${cause}`, options);
    this.operation = operation;
    this.bucket = bucket;
    this.key = key;
  }
}

/**
 * An HTTP request the handler cannot accept (a body that is not JSON, a body over the size limit).
 * Answered with its status and message, never with a stack trace.
 *
 * @example
 * ```ts
 * throw new HttpError(422, "reading.value must be a number");
 * ```
 */
export class HttpError extends SluiceError {
  readonly status: number;

  constructor(status: number, message: string, options?: { cause?: unknown }) {
    super("HTTP", message, options);
    this.status = status;
  }
}

/** A plain-data picture of an error, safe to write to a store or a log. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
}

/**
 * Turns anything thrown into plain data (no stack: stacks leak paths and are noise in quarantine files).
 *
 * @example
 * ```ts
 * serializeError(new TypeError("x")); // { name: "TypeError", message: "x" }
 * ```
 */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof SluiceError) return { name: error.name, message: error.message, code: error.code };
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: "Error", message: typeof error === "string" ? error : safeString(error) };
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
