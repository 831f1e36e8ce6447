import { EventTranslationError, normalizeIsoTime } from "@sluice/core";

/** A native source this package translates; also the `source` of every `EventTranslationError` it raises. */
export type AzureSource =
  | "event-grid"
  | "cloudevents"
  | "blob-trigger"
  | "storage-queue"
  | "service-bus"
  | "event-hubs"
  | "timer"
  | "http"
  | "unknown";

export type Fields = Record<string, unknown>;

export function isRecord(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function translationError(source: AzureSource, field: string, reason: string, cause?: unknown): EventTranslationError {
  return new EventTranslationError({ provider: "azure", source, field, reason, cause });
}

/** A short description of a value for error messages: never the value itself when it is long. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return value.length > 40 ? `a ${value.length}-character string` : JSON.stringify(value);
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `${value.length} bytes`;
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

/** A time in any of the spellings the Functions host produces, as ISO 8601 UTC with milliseconds, or `undefined`. */
export function timeOf(value: unknown): string | undefined {
  return normalizeIsoTime(value);
}

/**
 * An identifier as a string. The library JSON-parses every string that looks like JSON, so a numeric
 * message id arrives as a number, and 64-bit values may arrive as `Long`-like `{ low, high, unsigned }`
 * objects (when the worker's protobuf layer decodes int64 with the `long` package).
 */
export function idString(value: unknown): string | undefined {
  if (typeof value === "string") return value === "" ? undefined : value;
  if (typeof value === "number" && Number.isFinite(value)) return Number.isInteger(value) ? value.toFixed(0) : String(value);
  if (typeof value === "bigint") return value.toString();
  if (isRecord(value) && typeof value.low === "number" && typeof value.high === "number") {
    // high is a signed 32-bit word (for signed Longs), low is read unsigned: exact for the whole int64 range.
    const high = value.unsigned === true ? BigInt(value.high >>> 0) : BigInt(value.high | 0);
    return ((high << 32n) + BigInt(value.low >>> 0)).toString();
  }
  return undefined;
}

const utf8 = new TextEncoder();

/**
 * The bytes of a message body as the library handed it over. Buffers are the bytes themselves; a string
 * is UTF-8; anything else is a JSON value the library parsed out of the message text, serialised back.
 */
export function bodyBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (typeof value === "string") return utf8.encode(value);
  if (value === undefined) return new Uint8Array(0);
  return utf8.encode(JSON.stringify(value));
}

/** A string map from a dictionary whose values may have been JSON-parsed by the library. */
export function stringAttributes(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  const attributes: Record<string, string> = {};
  for (const [name, item] of Object.entries(value)) {
    if (item === null || item === undefined) continue;
    attributes[name] = typeof item === "string" ? item : (idString(item) ?? JSON.stringify(item));
  }
  return attributes;
}

/** An item of a per-message metadata array, only when the array lines up with the batch (see README). */
export function aligned(metadata: Fields, name: string, length: number): unknown[] | undefined {
  const array = metadata[name];
  return Array.isArray(array) && array.length === length ? array : undefined;
}
