import type { NumberedLine } from "../events.js";

export const DEFAULT_MAX_LINE_LENGTH = 1024 * 1024;
/** How much of an over-long line is kept for its quarantine record. */
export const OVERLONG_LINE_KEPT = 64 * 1024;

export interface SplitLinesOptions {
  maxLineLength?: number;
  /** Called for a line longer than `maxLineLength` instead of yielding it; gets its number and first 64 KiB. */
  onLineTooLong?: (line: NumberedLine, length: number) => void;
}

/**
 * Splits a byte stream into lines with bounded memory: a chunk splitter over a streaming UTF-8
 * decoder, not `readline` (which is slower and cannot bound a line's length). `\n` and `\r\n` end a
 * line, a final line without a newline is yielded, and empty lines are kept so numbering stays true.
 */
export async function* splitLines(source: ReadableStream<Uint8Array>, options: SplitLinesOptions = {}): AsyncGenerator<NumberedLine> {
  const maxLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  const decoder = new TextDecoder("utf-8");
  const reader = source.getReader();
  let pending = "";
  let number = 0;
  // While an over-long line is being skipped: its first part and how long it has grown.
  let overlongHead: string | undefined;
  let overlongLength = 0;

  const finishLine = (text: string): NumberedLine | undefined => {
    number++;
    if (overlongHead !== undefined) {
      const length = overlongLength + text.length;
      options.onLineTooLong?.({ number, text: overlongHead }, length);
      overlongHead = undefined;
      overlongLength = 0;
      return undefined;
    }
    if (text.length > maxLength) {
      options.onLineTooLong?.({ number, text: text.slice(0, OVERLONG_LINE_KEPT) }, text.length);
      return undefined;
    }
    return { number, text: text.endsWith("\r") ? text.slice(0, -1) : text };
  };

  try {
    for (;;) {
      const { done, value } = await reader.read();
      const chunk = done ? decoder.decode() : decoder.decode(value, { stream: true });
      let start = 0;
      let newline = chunk.indexOf("\n");
      while (newline !== -1) {
        const piece = chunk.slice(start, newline);
        const line = finishLine(pending === "" ? piece : pending + piece);
        pending = "";
        if (line) yield line;
        start = newline + 1;
        newline = chunk.indexOf("\n", start);
      }
      const rest = chunk.slice(start);
      if (overlongHead !== undefined) {
        overlongLength += rest.length;
      } else if (pending.length + rest.length > maxLength) {
        overlongHead = (pending + rest).slice(0, OVERLONG_LINE_KEPT);
        overlongLength = pending.length + rest.length;
        pending = "";
      } else if (rest !== "") {
        pending += rest;
      }
      if (done) break;
    }
    if (pending !== "" || overlongHead !== undefined) {
      const line = finishLine(pending);
      if (line) yield line;
    }
  } finally {
    reader.releaseLock();
  }
}

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/**
 * Decompresses a stream when it starts with the gzip magic bytes (`"auto"`), always (`true`) or never
 * (`false`). Looking at the bytes rather than the key's suffix matters: Firehose writes gzip objects
 * with no `.gz` in their name.
 */
export function maybeGunzip(source: ReadableStream<Uint8Array>, mode: "auto" | boolean = "auto"): ReadableStream<Uint8Array> {
  if (mode === false) return source;
  if (mode === true) return source.pipeThrough(new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>);
  const reader = source.getReader();
  let head: Uint8Array | undefined;
  let decided: ReadableStream<Uint8Array> | undefined;
  let decidedReader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const passthrough = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!decidedReader) {
        // Collect at least two bytes to decide, then replay them ahead of the rest.
        const collected: Uint8Array[] = [];
        let size = 0;
        let ended = false;
        while (size < 2) {
          const { done, value } = await reader.read();
          if (done) {
            ended = true;
            break;
          }
          collected.push(value);
          size += value.length;
        }
        head = concatBytes(collected, size);
        const isGzip = head.length >= 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
        const replay = replayStream(head, ended ? undefined : reader);
        decided = isGzip
          ? replay.pipeThrough(new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>)
          : replay;
        decidedReader = decided.getReader();
      }
      const { done, value } = await decidedReader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel(reason) {
      await (decidedReader ? decidedReader.cancel(reason) : reader.cancel(reason));
    },
  });
  return passthrough;
}

function replayStream(head: Uint8Array, rest: ReadableStreamDefaultReader<Uint8Array> | undefined): ReadableStream<Uint8Array> {
  let sentHead = head.length === 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sentHead) {
        sentHead = true;
        controller.enqueue(head);
        return;
      }
      if (!rest) return controller.close();
      const { done, value } = await rest.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel(reason) {
      await rest?.cancel(reason);
    },
  });
}

/** Joins byte chunks into one array. */
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

/** Reads a whole stream into one array. */
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

/**
 * Splits a byte stream into JSON records written back to back, as Firehose writes them when no
 * delimiter is configured (`{…}{…}`), or one a line, or both mixed. A newline always ends a record (JSON
 * text cannot hold a raw newline, so a broken record never swallows the next line); within a line, a
 * record ends where its outermost object or array closes. Records are numbered from 1; text that is not
 * an object or array runs to the end of its line and is yielded as one record for the caller to reject.
 */
export async function* splitJsonRecords(source: ReadableStream<Uint8Array>, options: SplitLinesOptions = {}): AsyncGenerator<NumberedLine> {
  const maxLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  const decoder = new TextDecoder("utf-8");
  const reader = source.getReader();
  let pending = "";
  let number = 0;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let overlong = false;
  let overlongLength = 0;

  const emit = (text: string): NumberedLine | undefined => {
    const trimmed = text.trim();
    if (trimmed === "" && !overlong) return undefined;
    number++;
    if (overlong) {
      options.onLineTooLong?.({ number, text: pending.slice(0, OVERLONG_LINE_KEPT) }, overlongLength + text.length);
      overlong = false;
      overlongLength = 0;
      return undefined;
    }
    return { number, text: trimmed };
  };

  try {
    for (;;) {
      const { done, value } = await reader.read();
      const chunk = done ? decoder.decode() : decoder.decode(value, { stream: true });
      let start = 0;
      for (let index = 0; index < chunk.length; index++) {
        const code = chunk.charCodeAt(index);
        if (code === NEWLINE) {
          const record = emit(pending + chunk.slice(start, index));
          pending = "";
          depth = 0;
          inString = false;
          escaped = false;
          start = index + 1;
          if (record) yield record;
          continue;
        }
        if (inString) {
          if (escaped) escaped = false;
          else if (code === BACKSLASH) escaped = true;
          else if (code === QUOTE) inString = false;
          continue;
        }
        if (code === QUOTE) inString = depth > 0;
        else if (code === OPEN_BRACE || code === OPEN_BRACKET) depth++;
        else if ((code === CLOSE_BRACE || code === CLOSE_BRACKET) && depth > 0 && --depth === 0) {
          const record = emit(pending + chunk.slice(start, index + 1));
          pending = "";
          start = index + 1;
          if (record) yield record;
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
      if (done) break;
    }
    const last = emit(overlong ? "" : pending);
    if (last) yield last;
  } finally {
    reader.releaseLock();
  }
}
