import type { ProviderName } from "./errors.js";

/**
 * The translated, plain-data part of an object event: what every provider's translator produces and
 * what a local event file contains. JSON-serialisable.
 */
export interface ObjectEventData {
  kind: "object.created" | "object.deleted";
  /** The provider's event id, stable across redelivery of the same event. */
  id: string;
  /** ISO 8601 UTC, millisecond precision, ending in `Z`. */
  time: string;
  bucket: string;
  /** The object's name exactly as stored (decoded). */
  key: string;
  size?: number;
  /** Without quotes. */
  etag?: string;
  contentType?: string;
  /** S3 versionId, GCS generation; absent when the provider gives none. */
  version?: string;
  provider: ProviderName;
}

/** Options for {@link ObjectBodyReaders.lines}. */
export interface LinesOptions {
  /**
   * Decompress gzip. `"auto"` (the default) looks at the first two bytes, not at the key's suffix,
   * because Firehose and others write gzip objects without a `.gz` name.
   */
  gzip?: "auto" | boolean;
  /**
   * A line longer than this many characters is not buffered: it is skipped and sent to the function's
   * `onFailure` (quarantined) with its first 64 KiB. Default 1 MiB.
   */
  maxLineLength?: number;
  /**
   * `"newline"` (the default): one record a line. `"json"`: JSON records one a line or written back to
   * back with no delimiter (`{…}{…}`, as Firehose writes them unless told otherwise); numbers then count
   * records rather than physical lines.
   */
  split?: "newline" | "json";
}

/** One line of an object, with its 1-based number. */
export interface NumberedLine {
  number: number;
  text: string;
}

/** Readers of an object's body. Attached by the provider that delivered the event; each call reads anew. */
export interface ObjectBodyReaders {
  /** The raw bytes as stored (still compressed, if the object is). */
  stream(): ReadableStream<Uint8Array>;
  /** The whole body, decompressed if gzip, as bytes. */
  bytes(): Promise<Uint8Array>;
  /** The whole body, decompressed if gzip, as UTF-8 text. */
  text(): Promise<string>;
  /**
   * The body's lines, decompressed if gzip, with bounded memory. `\n` and `\r\n` both end a line; a
   * last line without a newline is yielded; empty lines are yielded as `""` so line numbers stay true.
   */
  lines(options?: LinesOptions): AsyncIterable<string>;
  /** Like {@link ObjectBodyReaders.lines}, with each line's 1-based number, for precise quarantine records. */
  numberedLines(options?: LinesOptions): AsyncIterable<NumberedLine>;
}

/** An object that was created: its identity and its readers. */
export interface ObjectCreatedEvent extends ObjectEventData, ObjectBodyReaders {
  kind: "object.created";
}

/** An object that was deleted. It has no body to read. */
export interface ObjectDeletedEvent extends ObjectEventData {
  kind: "object.deleted";
}

/** The translated, plain-data part of an HTTP request. */
export interface HttpEventData {
  kind: "http";
  /** The provider's request id where it gives one. */
  id: string;
  time: string;
  /** Upper case. */
  method: string;
  /** The path as requested, without the query string. */
  path: string;
  /** Lower-case names; repeated headers joined with `, ` (cookies with `; `). */
  headers: Record<string, string>;
  /** Repeated parameters are kept as arrays. */
  query: Record<string, string | string[]>;
  /** Path parameters, where the platform matched a route template. */
  params?: Record<string, string>;
  /** The source IP, where the platform says. */
  sourceIp?: string;
  /** The body as the platform delivered it; `undefined` when there is none. */
  body?: { data: string; encoding: "utf8" | "base64" };
  provider: ProviderName;
}

/** Readers of an HTTP request's body. */
export interface HttpBodyReaders {
  bytes(): Promise<Uint8Array>;
  text(): Promise<string>;
  /** Parses the body as JSON; a body that is not JSON raises an {@link HttpError} answered with 400. */
  json<T = unknown>(): Promise<T>;
}

export interface HttpEvent extends Omit<HttpEventData, "body">, HttpBodyReaders {
  kind: "http";
}

/** A schedule firing. */
export interface ScheduleEvent {
  kind: "schedule";
  id: string;
  /** The scheduled time where the cloud gives it, else the invocation time. */
  time: string;
  /** The schedule's name (rule, job or function name). */
  schedule: string;
  provider: ProviderName;
}

/** One message of a batch, as translated. */
export interface MessageData {
  /** Message id, sequence number or offset: unique within the source. Big numbers stay strings. */
  id: string;
  time: string;
  /** The bytes the producer sent (transport base64 removed). */
  body: Uint8Array;
  attributes: Record<string, string>;
  /** 1 for the first delivery, where the platform says. */
  attempt?: number;
  /** Ordering key, message group id or partition key, where there is one. */
  group?: string;
  /** A sequence number or offset within the group or partition, as a string. */
  sequence?: string;
}

/** The translated, plain-data part of a message batch. */
export interface MessagesEventData {
  kind: "messages";
  source: "queue" | "topic" | "stream";
  /** Queue, topic or stream name. */
  name: string;
  messages: MessageData[];
  provider: ProviderName;
}

/** One message of a batch, with readers and a way to fail it alone. */
export interface Message extends Omit<MessageData, "body"> {
  bytes(): Uint8Array;
  text(): string;
  json<T = unknown>(): T;
  /** Marks this message failed (it is retried or routed to `onFailure`); the others still succeed. */
  fail(reason?: unknown): void;
  /** Whether {@link Message.fail} was called. */
  readonly failed: boolean;
}

export interface MessagesEvent extends Omit<MessagesEventData, "messages"> {
  kind: "messages";
  messages: Message[];
  /**
   * Runs `handle` for each message, at most `concurrency` at a time, and fails exactly the messages
   * whose `handle` throws.
   */
  each(handle: (message: Message) => unknown, options?: { concurrency?: number }): Promise<void>;
}

/** A direct invocation with any payload. */
export interface InvokeEvent<TPayload = unknown> {
  kind: "invoke";
  id: string;
  time: string;
  payload: TPayload;
  provider: ProviderName;
}

/** Every neutral event a handler can receive, discriminated on `kind`. */
export type NeutralEvent = ObjectCreatedEvent | ObjectDeletedEvent | HttpEvent | ScheduleEvent | MessagesEvent | InvokeEvent;

/** The plain-data form of every neutral event: what translators return and event files contain. */
export type NeutralEventData = ObjectEventData | HttpEventData | ScheduleEvent | MessagesEventData | InvokeEvent;
