import { EventTranslationError, normalizeIsoTime } from "@sluice/core";

/**
 * What a translator needs from outside the payload, passed in so that translation stays pure:
 * the clock for payloads that carry no time, an id source for requests that carry no id, and the
 * trigger's own name for payloads that do not say which topic they came from.
 */
export interface TranslationEnv {
  /** ISO 8601 UTC: the invocation time. */
  now(): string;
  /** A fresh unique id. */
  newId(): string;
  /** The topic (or schedule) name the function was defined with. */
  triggerName?: string;
}

/** An event that is acknowledged without reaching the handler (e.g. a metadata update), with why. */
export interface IgnoredEvent {
  kind: "ignored";
  id: string;
  reason: string;
}

/** The source names that EventTranslationError carries for Google Cloud payloads. */
export type GcpSourceName =
  | "storage-cloudevent"
  | "storage-legacy"
  | "storage-pubsub"
  | "pubsub-cloudevent"
  | "pubsub-push"
  | "scheduler"
  | "http"
  | "unknown";

export function translationError(source: GcpSourceName, field: string, reason: string, cause?: unknown): EventTranslationError {
  return new EventTranslationError({ provider: "gcp", source, field, reason, cause });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}` : typeof value;
}

export function requireRecord(value: unknown, source: GcpSourceName, field: string): Record<string, unknown> {
  if (!isRecord(value)) throw translationError(source, field, `expected an object, got ${describe(value)}`);
  return value;
}

export function requireString(value: unknown, source: GcpSourceName, field: string): string {
  if (typeof value !== "string" || value === "")
    throw translationError(source, field, `expected a non-empty string, got ${describe(value)}`);
  return value;
}

/** A string field that may be absent (`undefined` or `null`); any other type is an error. */
export function optionalString(value: unknown, source: GcpSourceName, field: string): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") throw translationError(source, field, `expected a string, got ${describe(value)}`);
  return value;
}

/**
 * An id that Google sends as a string but that may arrive as a JSON number (hand-made events, other
 * tools). A number is accepted only while it is exact: `17194425001187651` parses to …652.
 */
export function idString(value: unknown, source: GcpSourceName, field: string): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value === "string") return value;
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return String(value);
  throw translationError(source, field, `expected an id string, got ${describe(value)} (a number this large is not exact)`);
}

/** `size` arrives as `"234"` from Eventarc and as `234` in Google's own test data: both are 234. */
export function optionalCount(value: unknown, source: GcpSourceName, field: string): number | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const number = typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof number !== "number" || !Number.isSafeInteger(number) || number < 0) {
    throw translationError(source, field, `expected a non-negative integer or its decimal string, got ${describe(value)}`);
  }
  return number;
}

/** A time that may be absent; present, it must be a time. Microseconds are rounded down to milliseconds. */
export function optionalTime(value: unknown, source: GcpSourceName, field: string): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  const time = normalizeIsoTime(value);
  if (time === undefined) throw translationError(source, field, `expected an RFC 3339 time, got ${describe(value)}`);
  return time;
}

/** Attributes as a string map; Pub/Sub 1st gen sends `null` when a message has none. */
export function attributeMap(value: unknown, source: GcpSourceName, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  const record = requireRecord(value, source, field);
  const attributes: Record<string, string> = {};
  for (const [name, item] of Object.entries(record)) {
    if (typeof item !== "string") throw translationError(source, `${field}.${name}`, `expected a string attribute, got ${describe(item)}`);
    attributes[name] = item;
  }
  return attributes;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes Pub/Sub's transport base64. `Buffer.from(text, "base64")` silently skips characters that are
 * not base64, which would hand the handler corrupted bytes; a payload that is not canonical padded
 * base64 is an error instead.
 */
export function decodeBase64(value: unknown, source: GcpSourceName, field: string): Uint8Array {
  if (value === undefined || value === null || value === "") return new Uint8Array(0);
  if (typeof value !== "string") throw translationError(source, field, `expected base64 text, got ${describe(value)}`);
  if (!BASE64.test(value)) throw translationError(source, field, "expected padded standard base64");
  return new Uint8Array(Buffer.from(value, "base64"));
}

/** `projects/p/topics/t` or `//pubsub.googleapis.com/projects/p/topics/t` → `t`. */
export function lastPathSegment(value: string | undefined, collection: "topics" | "subscriptions"): string | undefined {
  if (!value) return undefined;
  const match = new RegExp(`/${collection}/([^/]+)$`).exec(value);
  return match?.[1];
}
