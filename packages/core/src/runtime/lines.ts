import type { NumberedLine } from "../events.js";

/**
 * @example
 * ```ts
 * event.lines({ maxLineLength: DEFAULT_MAX_LINE_LENGTH * 4 });
 * ```
 */
export const DEFAULT_MAX_LINE_LENGTH = 1024 * 1024;
/**
 * How much of an over-long line is kept for its quarantine record.
 *
 * @example
 * ```ts
 * record.raw.length <= OVERLONG_LINE_KEPT; // true for a quarantined over-long line
 * ```
 */
export const OVERLONG_LINE_KEPT = 64 * 1024;

export interface SplitLinesOptions {
  maxLineLength?: number;
  /** Called for a line longer than `maxLineLength` instead of yielding it; gets its number and first 64 KiB. */
  onLineTooLong?: (line: NumberedLine, length: number) => void;
}

/**
 * Turns a byte stream into an async iterable of records, one decoded chunk at a time: `split` takes the
 * chunk's text (and whether it is the last) and returns the records it completes. Written as a plain
 * iterator rather than an async generator because a generator costs a promise round trip per record,
 * which halves the throughput of a line splitter (measured: 0.38 against 0.62 M records/s).
 */
function recordsOf<T>(source: ReadableStream<Uint8Array>, split: (text: string, last: boolean) => T[]): AsyncIterableIterator<T> {
  const decoder = utf8ChunkDecoder();
  const reader = source.getReader();
  let buffer: T[] = [];
  let index = 0;
  let finished = false;
  const release = () => {
    finished = true;
    reader.releaseLock();
  };
  const refill = async (): Promise<IteratorResult<T>> => {
    while (index >= buffer.length) {
      if (finished) return { done: true, value: undefined };
      let read: Awaited<ReturnType<typeof reader.read>>;
      try {
        read = await reader.read();
      } catch (error) {
        release();
        throw error;
      }
      const text = read.done ? decoder.end() : decoder.write(read.value);
      buffer = split(text, read.done);
      index = 0;
      if (read.done) release();
    }
    return { done: false, value: buffer[index++] as T };
  };
  return {
    // Not async: while the decoded chunk still holds records, a record costs one settled promise rather
    // than an async function's (most calls; only one in several hundred reads the stream).
    next(): Promise<IteratorResult<T>> {
      if (index < buffer.length) return Promise.resolve({ done: false, value: buffer[index++] as T });
      return refill();
    },
    async return(): Promise<IteratorResult<T>> {
      // The consumer stopped early (break, throw): stop reading the object too.
      if (!finished) {
        finished = true;
        await reader.cancel().catch(() => undefined);
        reader.releaseLock();
      }
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * Decodes UTF-8 chunk by chunk, exactly as one `TextDecoder` with `{ stream: true }` would, but up to seven
 * times faster on Node 20 (measured on 64 KiB chunks: 55 µs against 8 µs): a streaming decode goes through
 * ICU, a whole decode through simdutf. Each chunk is decoded whole up to its last complete character; the
 * bytes of a character the chunk cuts (at most three) are kept for the next one. Cutting before a byte
 * that is ASCII or a lead byte (0xC0 and over) never changes the output: the WHATWG decoder is in its
 * initial state there whatever came before, so invalid bytes still become the same U+FFFD.
 *
 * @example
 * ```ts
 * const decoder = utf8ChunkDecoder();
 * decoder.write(new Uint8Array([0xe2, 0x82])) + decoder.write(new Uint8Array([0xac])) + decoder.end(); // "€"
 * ```
 */
export function utf8ChunkDecoder(): { write(chunk: Uint8Array): string; end(): string } {
  // A byte order mark is dropped at the start of the text only, as a streaming decoder does.
  const atStart = new TextDecoder("utf-8");
  const afterStart = new TextDecoder("utf-8", { ignoreBOM: true });
  let started = false;
  let held: Uint8Array | undefined;
  const decode = (bytes: Uint8Array): string => {
    if (bytes.length === 0) return "";
    const decoder = started ? afterStart : atStart;
    started = true;
    return decoder.decode(bytes);
  };
  return {
    write(chunk) {
      const bytes = held ? concatBytes([held, chunk], held.length + chunk.length) : chunk;
      const complete = completeUtf8Length(bytes);
      held = complete < bytes.length ? bytes.slice(complete) : undefined;
      return decode(complete === bytes.length ? bytes : bytes.subarray(0, complete));
    },
    end() {
      const rest = held;
      held = undefined;
      return rest ? decode(rest) : "";
    },
  };
}

/** How many bytes precede a character cut at the end of `bytes` (all of them when none is cut). */
function completeUtf8Length(bytes: Uint8Array): number {
  const length = bytes.length;
  for (let index = length - 1; index >= 0 && index >= length - 4; index--) {
    const byte = bytes[index] as number;
    if (byte < 0x80) return length;
    if (byte >= 0xc0) {
      const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return length - index >= needed ? length : index;
    }
  }
  return length;
}

/**
 * Maps an async iterable without a generator (see {@link recordsOf} for why).
 *
 * @example
 * ```ts
 * const texts = mapAsyncIterable(splitLines(stream), (line) => line.text);
 * ```
 */
export function mapAsyncIterable<T, U>(source: AsyncIterable<T>, map: (item: T) => U): AsyncIterableIterator<U> {
  const iterator = source[Symbol.asyncIterator]();
  return {
    async next(): Promise<IteratorResult<U>> {
      const result = await iterator.next();
      return result.done ? { done: true, value: undefined } : { done: false, value: map(result.value) };
    },
    async return(): Promise<IteratorResult<U>> {
      await iterator.return?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

/**
 * Splits a byte stream into lines with bounded memory: a chunk splitter over a streaming UTF-8
 * decoder, not `readline` (which is slower and cannot bound a line's length). `\n` and `\r\n` end a
 * line, a final line without a newline is yielded, and empty lines are kept so numbering stays true.
 *
 * @example
 * ```ts
 * for await (const { number, text } of splitLines(stream, { maxLineLength: 65_536 })) console.log(number, text);
 * ```
 */
export function splitLines(source: ReadableStream<Uint8Array>, options: SplitLinesOptions = {}): AsyncIterableIterator<NumberedLine> {
  return recordsOf(source, lineSplitter(options, numbered));
}

/**
 * The text of each line of {@link splitLines}, without an object per line: what `event.lines()` yields,
 * one async step per line instead of two through {@link mapAsyncIterable}.
 *
 * @example
 * ```ts
 * for await (const text of splitLineTexts(stream)) console.log(text);
 * ```
 */
export function splitLineTexts(source: ReadableStream<Uint8Array>, options: SplitLinesOptions = {}): AsyncIterableIterator<string> {
  return recordsOf(source, lineSplitter(options, textOnly));
}

const numbered = (number: number, text: string): NumberedLine => ({ number, text });
const textOnly = (_number: number, text: string): string => text;

function lineSplitter<T>(options: SplitLinesOptions, make: (number: number, text: string) => T): (chunk: string, last: boolean) => T[] {
  const maxLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  let pending = "";
  let number = 0;
  // While an over-long line is being skipped: its first part and how long it has grown.
  let overlongHead: string | undefined;
  let overlongLength = 0;

  const finishLine = (text: string, out: T[]) => {
    number++;
    if (overlongHead !== undefined) {
      options.onLineTooLong?.({ number, text: overlongHead }, overlongLength + text.length);
      overlongHead = undefined;
      overlongLength = 0;
    } else if (text.length > maxLength) {
      options.onLineTooLong?.({ number, text: text.slice(0, OVERLONG_LINE_KEPT) }, text.length);
    } else {
      out.push(make(number, text.charCodeAt(text.length - 1) === 13 ? text.slice(0, -1) : text));
    }
  };

  return (chunk, last) => {
    const out: T[] = [];
    let start = 0;
    let newline = chunk.indexOf("\n");
    while (newline !== -1) {
      const piece = chunk.slice(start, newline);
      finishLine(pending === "" ? piece : pending + piece, out);
      pending = "";
      start = newline + 1;
      newline = chunk.indexOf("\n", start);
    }
    const rest = start === 0 ? chunk : chunk.slice(start);
    if (overlongHead !== undefined) {
      overlongLength += rest.length;
    } else if (pending.length + rest.length > maxLength) {
      overlongHead = (pending + rest).slice(0, OVERLONG_LINE_KEPT);
      overlongLength = pending.length + rest.length;
      pending = "";
    } else if (rest !== "") {
      pending += rest;
    }
    if (last && (pending !== "" || overlongHead !== undefined)) {
      finishLine(pending, out);
      pending = "";
    }
    return out;
  };
}

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** The next chunk of a byte source, or `undefined` at its end. */
type PullBytes = () => Promise<Uint8Array | undefined>;

/**
 * Decompresses a stream when it starts with the gzip magic bytes (`"auto"`), always (`true`) or never
 * (`false`). Looking at the bytes rather than the key's suffix matters: Firehose writes gzip objects
 * with no `.gz` in their name.
 *
 * One stream, whatever the decision: the first chunk is read to decide and then handed on (or to the
 * decompressor) ahead of the rest, without a replaying stream in between.
 *
 * @example
 * ```ts
 * const plain = maybeGunzip(await store.get("sensor-raw", key)); // gzip or not, plain bytes out
 * ```
 */
export function maybeGunzip(source: ReadableStream<Uint8Array>, mode: "auto" | boolean = "auto"): ReadableStream<Uint8Array> {
  if (mode === false) return source;
  const reader = source.getReader();
  let head: Uint8Array | undefined;
  let sourceEnded = false;
  const readSource: PullBytes = async () => {
    if (head) {
      const chunk = head;
      head = undefined;
      return chunk;
    }
    if (sourceEnded) return undefined;
    const { done, value } = await reader.read();
    if (done) sourceEnded = true;
    return done ? undefined : value;
  };
  let pull: PullBytes | undefined;
  let stopDecompressing: (() => void) | undefined;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!pull) {
        let isGzip = mode === true;
        if (mode === "auto") {
          // Collect at least two bytes to decide; they are handed on first.
          const collected: Uint8Array[] = [];
          let size = 0;
          while (size < 2) {
            const { done, value } = await reader.read();
            if (done) {
              sourceEnded = true;
              break;
            }
            collected.push(value);
            size += value.length;
          }
          head = concatBytes(collected, size);
          isGzip = head.length >= 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
        }
        if (isGzip) {
          const gunzip = gunzipBytes(readSource);
          pull = gunzip.pull;
          stopDecompressing = gunzip.stop;
        } else {
          pull = readSource;
        }
      }
      const chunk = await pull();
      if (chunk === undefined) controller.close();
      else controller.enqueue(chunk);
    },
    async cancel(reason) {
      stopDecompressing?.();
      await reader.cancel(reason);
    },
  });
}

/** The part of `node:zlib` used here, so that core needs no import of it at load time. */
interface NodeZlib {
  createGunzip(options?: { chunkSize?: number }): import("node:zlib").Gunzip;
}

/**
 * Gunzips a byte source with `node:zlib` where the runtime has it, else with the web
 * `DecompressionStream`. Node's `DecompressionStream` is the same zlib behind a web-stream duplex adapter
 * that costs a fifth of the throughput of a gzip object (issue 7's profile: zlib's callbacks and idle
 * waits on its thread pool); `node:zlib` is taken with `process.getBuiltinModule` (Node 20.16 and later)
 * on first use, so core imports no Node module when it loads and still runs where there is none.
 */
function gunzipBytes(read: PullBytes): { pull: PullBytes; stop: () => void } {
  const zlib = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.("node:zlib") as
    | NodeZlib
    | undefined;
  return zlib ? zlibGunzip(zlib, read) : webGunzip(read);
}

function zlibGunzip(zlib: NodeZlib, read: PullBytes): { pull: PullBytes; stop: () => void } {
  // 64 KiB out per chunk, as the object store reads: a quarter as many chunks as zlib's default 16 KiB.
  const gunzip = zlib.createGunzip({ chunkSize: 64 * 1024 });
  let failure: unknown;
  let ended = false;
  let inputDone = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  gunzip.on("readable", notify);
  gunzip.on("drain", notify);
  gunzip.on("end", () => {
    ended = true;
    notify();
  });
  gunzip.on("error", (error) => {
    failure = error;
    notify();
  });
  const pull: PullBytes = async () => {
    for (;;) {
      if (failure !== undefined) throw failure;
      const out = gunzip.read() as Uint8Array | null;
      if (out !== null) return out;
      if (ended) return undefined;
      // Feed zlib while it takes input (bounded by its write buffer), else wait for output or room.
      if (!inputDone && !gunzip.writableNeedDrain) {
        const chunk = await read();
        if (failure !== undefined) throw failure;
        if (chunk === undefined) {
          inputDone = true;
          gunzip.end();
        } else {
          gunzip.write(chunk);
        }
        continue;
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  };
  return { pull, stop: () => gunzip.destroy() };
}

function webGunzip(read: PullBytes): { pull: PullBytes; stop: () => void } {
  const compressed = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = await read();
      if (chunk === undefined) controller.close();
      else controller.enqueue(chunk);
    },
  });
  const reader = compressed.pipeThrough(new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>).getReader();
  return {
    pull: async () => {
      const { done, value } = await reader.read();
      return done ? undefined : value;
    },
    stop: () => {
      reader.cancel().catch(() => undefined);
    },
  };
}

/**
 * Joins byte chunks into one array.
 *
 * @example
 * ```ts
 * concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])]); // Uint8Array [1, 2, 3]
 * ```
 */
export function concatBytes(chunks: readonly Uint8Array[], size = chunks.reduce((sum, chunk) => sum + chunk.length, 0)): Uint8Array {
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const joined = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.length;
  }
  return joined;
}

/**
 * Reads a whole stream into one array.
 *
 * @example
 * ```ts
 * const bytes = await readAllBytes(await store.get("sensor-reports", "reports/a.json"));
 * ```
 */
export async function readAllBytes(source: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = source.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    reader.releaseLock();
  }
  return concatBytes(chunks, size);
}

const OPEN_BRACE = 123; // {
const CLOSE_BRACE = 125; // }
const OPEN_BRACKET = 91; // [
const CLOSE_BRACKET = 93; // ]
const QUOTE = 34; // "
const BACKSLASH = 92; // \
const NEWLINE = 10; // \n

function indexOrEnd(text: string, search: string, from: number): number {
  const found = text.indexOf(search, from);
  return found === -1 ? text.length : found;
}

/**
 * Splits a byte stream into JSON records written back to back, as Firehose writes them when no
 * delimiter is configured (`{…}{…}`), or one a line, or both mixed. A newline always ends a record (JSON
 * text cannot hold a raw newline, so a broken record never swallows the next line); within a line, a
 * record ends where its outermost object or array closes. Records are numbered from 1; text that is not
 * an object or array runs to the end of its line and is yielded as one record for the caller to reject.
 *
 * @example
 * ```ts
 * for await (const record of splitJsonRecords(stream)) JSON.parse(record.text); // {…}{…} or one a line
 * ```
 */
export function splitJsonRecords(source: ReadableStream<Uint8Array>, options: SplitLinesOptions = {}): AsyncIterableIterator<NumberedLine> {
  return recordsOf(source, jsonRecordSplitter(options, numbered));
}

/**
 * The text of each record of {@link splitJsonRecords}, without an object per record.
 *
 * @example
 * ```ts
 * for await (const text of splitJsonRecordTexts(stream)) JSON.parse(text);
 * ```
 */
export function splitJsonRecordTexts(source: ReadableStream<Uint8Array>, options: SplitLinesOptions = {}): AsyncIterableIterator<string> {
  return recordsOf(source, jsonRecordSplitter(options, textOnly));
}

function jsonRecordSplitter<T>(
  options: SplitLinesOptions,
  make: (number: number, text: string) => T,
): (chunk: string, last: boolean) => T[] {
  const maxLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  let pending = "";
  let number = 0;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let overlong = false;
  let overlongLength = 0;

  const emit = (text: string, out: T[]) => {
    const trimmed = text.trim();
    if (trimmed === "" && !overlong) return;
    number++;
    if (overlong) {
      options.onLineTooLong?.({ number, text: pending.slice(0, OVERLONG_LINE_KEPT) }, overlongLength + text.length);
      overlong = false;
      overlongLength = 0;
      return;
    }
    out.push(make(number, trimmed));
  };

  return (chunk, last) => {
    const out: T[] = [];
    let start = 0;
    let nextBackslash = -1;
    let nextNewline = -1;
    for (let index = 0; index < chunk.length; index++) {
      const code = chunk.charCodeAt(index);
      if (code === NEWLINE) {
        emit(pending + chunk.slice(start, index), out);
        pending = "";
        depth = 0;
        inString = false;
        escaped = false;
        start = index + 1;
        continue;
      }
      if (inString) {
        if (escaped) {
          escaped = false;
          continue;
        }
        if (code === BACKSLASH) {
          escaped = true;
          continue;
        }
        if (code === QUOTE) {
          inString = false;
          continue;
        }
        // Strings are most of JSON text: jump to the next quote, backslash or newline instead of
        // stepping through every character (a newline still ends the record, even inside a string).
        // The far stops are remembered per chunk: searching for a backslash that is not there on every
        // string would scan to the chunk's end each time.
        if (nextBackslash < index) nextBackslash = indexOrEnd(chunk, "\\", index);
        if (nextNewline < index) nextNewline = indexOrEnd(chunk, "\n", index);
        const quote = indexOrEnd(chunk, '"', index + 1);
        index = Math.min(quote, nextBackslash, nextNewline) - 1;
        continue;
      }
      if (code === QUOTE) inString = depth > 0;
      else if (code === OPEN_BRACE || code === OPEN_BRACKET) depth++;
      else if ((code === CLOSE_BRACE || code === CLOSE_BRACKET) && depth > 0 && --depth === 0) {
        emit(pending + chunk.slice(start, index + 1), out);
        pending = "";
        start = index + 1;
      }
    }
    const rest = chunk.slice(start);
    if (overlong) {
      overlongLength += rest.length;
    } else if (pending.length + rest.length > maxLength) {
      // Keep the head for the quarantine record, and stop buffering the rest of this record.
      pending = (pending + rest).slice(0, OVERLONG_LINE_KEPT);
      overlong = true;
      overlongLength = pending.length;
    } else {
      pending += rest;
    }
    if (last) {
      emit(overlong ? "" : pending, out);
      pending = "";
    }
    return out;
  };
}
