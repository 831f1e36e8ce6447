import { HttpError } from "../errors.js";
import type {
  HttpEvent,
  HttpEventData,
  LinesOptions,
  Message,
  MessageData,
  MessagesEvent,
  MessagesEventData,
  NumberedLine,
  ObjectCreatedEvent,
  ObjectEventData,
} from "../events.js";
import type { ObjectStore } from "../store.js";
import { maybeGunzip, readAllBytes, splitJsonRecordTexts, splitJsonRecords, splitLineTexts, splitLines } from "./lines.js";

const utf8 = new TextDecoder("utf-8");

/** Reports a line that was too long to buffer; the runtime quarantines it. */
export type OverlongLineReporter = (line: NumberedLine, length: number) => void;

/**
 * The key under which the runtime's context gives the reporter, made only when a line is too long: an
 * event per record then carries a reference to its context instead of a closure made for it.
 */
export const REPORT_OVERLONG = Symbol("report overlong line");

/** Where an event's readers report overlong lines: the reporter itself, or an owner that makes it on demand. */
export type OverlongLineSink = OverlongLineReporter | { readonly [REPORT_OVERLONG]: OverlongLineReporter };

/**
 * An object-created event with its readers. A class, so that the readers live on the prototype: building
 * an event per record costs a few field writes instead of five closures and two object spreads (measured:
 * a third of a dispatch). The store and the reporter are private fields, so the event still serialises to
 * its plain data.
 */
class ObjectCreatedEventWithReaders implements ObjectCreatedEvent {
  readonly kind = "object.created" as const;
  id: string;
  time: string;
  bucket: string;
  key: string;
  size?: number;
  etag?: string;
  contentType?: string;
  version?: string;
  provider: ObjectEventData["provider"];
  readonly #store: ObjectStore;
  readonly #overlong: OverlongLineSink | undefined;

  constructor(data: ObjectEventData, store: ObjectStore, overlong?: OverlongLineSink) {
    this.id = data.id;
    this.time = data.time;
    this.bucket = data.bucket;
    this.key = data.key;
    if (data.size !== undefined) this.size = data.size;
    if (data.etag !== undefined) this.etag = data.etag;
    if (data.contentType !== undefined) this.contentType = data.contentType;
    if (data.version !== undefined) this.version = data.version;
    this.provider = data.provider;
    this.#store = store;
    this.#overlong = overlong;
  }

  get #reportOverlong(): OverlongLineReporter | undefined {
    const sink = this.#overlong;
    return typeof sink === "function" ? sink : sink?.[REPORT_OVERLONG];
  }

  stream(): ReadableStream<Uint8Array> {
    return lazyStream(() => this.#store.get(this.bucket, this.key));
  }

  bytes(): Promise<Uint8Array> {
    return readAllBytes(maybeGunzip(this.stream()));
  }

  async text(): Promise<string> {
    return utf8.decode(await readAllBytes(maybeGunzip(this.stream())));
  }

  numberedLines(options: LinesOptions = {}): AsyncIterable<NumberedLine> {
    const split = options.split === "json" ? splitJsonRecords : splitLines;
    return split(maybeGunzip(this.stream(), options.gzip ?? "auto"), {
      maxLineLength: options.maxLineLength,
      onLineTooLong: this.#reportOverlong,
    });
  }

  lines(options: LinesOptions = {}): AsyncIterable<string> {
    // The same splitting as numberedLines, yielding the text itself (no object and no mapping step per line).
    const split = options.split === "json" ? splitJsonRecordTexts : splitLineTexts;
    return split(maybeGunzip(this.stream(), options.gzip ?? "auto"), {
      maxLineLength: options.maxLineLength,
      onLineTooLong: this.#reportOverlong,
    });
  }
}

/**
 * Gives an object event its body readers, reading through `store`. Each reader opens a new stream:
 * a stream is lazy, so an event whose body is never read costs nothing.
 *
 * @example
 * ```ts
 * const event = withObjectReaders(data, store);
 * for await (const line of event.lines()) console.log(line);
 * ```
 */
export function withObjectReaders(
  data: ObjectEventData & { kind: "object.created" },
  store: ObjectStore,
  reportOverlong?: OverlongLineSink,
): ObjectCreatedEvent {
  return new ObjectCreatedEventWithReaders(data, store, reportOverlong);
}

/** A stream that opens its source on first read, so that `event.stream()` stays synchronous. */
function lazyStream(open: () => Promise<ReadableStream<Uint8Array>>): ReadableStream<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      reader ??= (await open()).getReader();
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel(reason) {
      await reader?.cancel(reason);
    },
  });
}

/**
 * Lambda's synchronous payload limit; a bigger body is answered with 413.
 *
 * @example
 * ```ts
 * createRuntime(fn, { provider: "local", maxHttpBodyBytes: DEFAULT_MAX_HTTP_BODY_BYTES / 2 });
 * ```
 */
export const DEFAULT_MAX_HTTP_BODY_BYTES = 6 * 1024 * 1024;

/**
 * Gives an HTTP event its body readers. The body is decoded once, on first read.
 *
 * @example
 * ```ts
 * const body = await withHttpReaders(data).json<{ value: number }>();
 * ```
 */
export function withHttpReaders(data: HttpEventData, maxBodyBytes = DEFAULT_MAX_HTTP_BODY_BYTES): HttpEvent {
  return new HttpEventWithReaders(data, maxBodyBytes);
}

/**
 * An HTTP event with its body readers on the prototype (see {@link ObjectCreatedEventWithReaders}): an
 * object rest, a spread and three closures per request were the largest part of an HTTP dispatch in the
 * profile. The body is a private field, so the event still serialises to its data without it.
 */
class HttpEventWithReaders implements HttpEvent {
  readonly kind = "http" as const;
  id: string;
  time: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  query: Record<string, string | string[]>;
  params?: Record<string, string>;
  sourceIp?: string;
  provider: HttpEventData["provider"];
  readonly #body: HttpEventData["body"];
  readonly #maxBodyBytes: number;
  #decoded: Uint8Array | undefined;

  constructor(data: HttpEventData, maxBodyBytes: number) {
    this.id = data.id;
    this.time = data.time;
    this.method = data.method;
    this.path = data.path;
    this.headers = data.headers;
    this.query = data.query;
    if (data.params !== undefined) this.params = data.params;
    if (data.sourceIp !== undefined) this.sourceIp = data.sourceIp;
    this.provider = data.provider;
    this.#body = data.body;
    this.#maxBodyBytes = maxBodyBytes;
  }

  #bytes(): Uint8Array {
    if (this.#decoded) return this.#decoded;
    const body = this.#body;
    let decoded: Uint8Array;
    if (!body || body.data === "") decoded = new Uint8Array(0);
    else decoded = body.encoding === "base64" ? Buffer.from(body.data, "base64") : new TextEncoder().encode(body.data);
    if (decoded.length > this.#maxBodyBytes) throw new HttpError(413, `request body is larger than ${this.#maxBodyBytes} bytes`);
    this.#decoded = decoded;
    return decoded;
  }

  #text(): string {
    const body = this.#body;
    return body?.encoding === "utf8" && body.data.length <= this.#maxBodyBytes / 4 ? body.data : utf8.decode(this.#bytes());
  }

  async bytes(): Promise<Uint8Array> {
    return this.#bytes();
  }

  async text(): Promise<string> {
    return this.#text();
  }

  async json<T>(): Promise<T> {
    const source = this.#text();
    try {
      return JSON.parse(source) as T;
    } catch (cause) {
      throw new HttpError(400, source.trim() === "" ? "request body is empty, JSON expected" : "request body is not valid JSON", {
        cause,
      });
    }
  }
}

/** A message batch with readers, plus what the handler failed. */
export interface TrackedMessages {
  event: MessagesEvent;
  /** Messages the handler failed, with the reason, in batch order. */
  failures(): Array<{ message: MessageData; reason: unknown }>;
  /** Fails every message not yet failed (the handler threw). */
  failAll(reason: unknown): void;
}

/**
 * Gives a message batch its readers and per-message failure.
 *
 * @example
 * ```ts
 * const { event, failures } = withMessageReaders(data);
 * event.messages[0]?.fail(new Error("bad"));
 * failures(); // [{ message, reason }]
 * ```
 */
export function withMessageReaders(data: MessagesEventData): TrackedMessages {
  const reasons = new Map<number, unknown>();
  const messages: Message[] = data.messages.map((message, index) => {
    const { body, ...fields } = message;
    return {
      ...fields,
      bytes: () => body,
      text: () => utf8.decode(body),
      json: <T>() => JSON.parse(utf8.decode(body)) as T,
      fail(reason?: unknown) {
        if (!reasons.has(index)) reasons.set(index, reason ?? new Error("message failed"));
      },
      get failed() {
        return reasons.has(index);
      },
    };
  });
  const event: MessagesEvent = {
    kind: "messages",
    source: data.source,
    name: data.name,
    provider: data.provider,
    messages,
    async each(handle, options = {}) {
      const concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
      let next = 0;
      const worker = async () => {
        while (next < messages.length) {
          const message = messages[next++] as Message;
          try {
            await handle(message);
          } catch (error) {
            message.fail(error);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, messages.length) }, worker));
    },
  };
  return {
    event,
    failures: () =>
      [...reasons.entries()].sort(([a], [b]) => a - b).map(([index, reason]) => ({ message: data.messages[index] as MessageData, reason })),
    failAll(reason) {
      data.messages.forEach((_message, index) => {
        if (!reasons.has(index)) reasons.set(index, reason);
      });
    },
  };
}
