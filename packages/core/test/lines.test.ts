import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { maybeGunzip, readAllBytes, splitJsonRecords, splitLines } from "../src/index.js";
import { utf8ChunkDecoder } from "../src/runtime/lines.js";

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream({
    pull(controller) {
      const chunk = chunks[index++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
  });
}

/** Cuts bytes at the given offsets: chunk boundaries may fall inside a multi-byte character. */
function cut(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const points = [...new Set(offsets.map((offset) => offset % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    if (point > start) chunks.push(bytes.slice(start, point));
    start = Math.max(start, point);
  }
  return chunks;
}

async function collect(source: ReadableStream<Uint8Array>, maxLineLength?: number) {
  const lines: Array<[number, string]> = [];
  const tooLong: Array<[number, number, number]> = [];
  for await (const line of splitLines(source, {
    maxLineLength,
    onLineTooLong: (head, length) => tooLong.push([head.number, length, head.text.length]),
  })) {
    lines.push([line.number, line.text]);
  }
  return { lines, tooLong };
}

/** What the lines of a text are, by definition: split on \n, drop one \r before it, no phantom last line. */
function reference(text: string): Array<[number, string]> {
  if (text === "") return [];
  const parts = text.split("\n");
  if (parts[parts.length - 1] === "") parts.pop();
  return parts.map((part, index) => [index + 1, part.endsWith("\r") ? part.slice(0, -1) : part]);
}

describe("splitLines", () => {
  it("splits any text at any chunk boundaries exactly like a whole-text split", async () => {
    const lineText = fc.string({ unit: fc.constantFrom("a", "é", "日", "🚀", "\r", "{", "}", " ", "\\"), maxLength: 12 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(lineText, { maxLength: 20 }),
        fc.boolean(),
        fc.array(fc.nat(400), { maxLength: 12 }),
        async (lines, trailingNewline, offsets) => {
          const text = lines.join("\n") + (trailingNewline && lines.length > 0 ? "\n" : "");
          const bytes = new TextEncoder().encode(text);
          const { lines: actual } = await collect(streamOf(cut(bytes, offsets)));
          expect(actual).toEqual(reference(text));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keeps empty lines so numbering stays true, handles CRLF and a last line without newline", async () => {
    const { lines } = await collect(streamOf([new TextEncoder().encode("a\r\n\r\nb\n\nc")]));
    expect(lines).toEqual([
      [1, "a"],
      [2, ""],
      [3, "b"],
      [4, ""],
      [5, "c"],
    ]);
  });

  it("skips a line over the limit without buffering it, reports it with its number and head, and carries on", async () => {
    const long = "x".repeat(5000);
    const bytes = new TextEncoder().encode(`short\n${long}\nafter\n${long}`);
    const { lines, tooLong } = await collect(streamOf(cut(bytes, [3, 100, 2000, 4000, 6000, 9000])), 1000);
    expect(lines).toEqual([
      [1, "short"],
      [3, "after"],
    ]);
    expect(tooLong.map(([number, length]) => [number, length])).toEqual([
      [2, 5000],
      [4, 5000],
    ]);
    for (const [, , kept] of tooLong) expect(kept).toBeLessThanOrEqual(64 * 1024);
  });
});

describe("utf8ChunkDecoder", () => {
  const decodeInChunks = (chunks: Uint8Array[]) => {
    const decoder = utf8ChunkDecoder();
    return chunks.map((chunk) => decoder.write(chunk)).join("") + decoder.end();
  };

  it("decodes any bytes, valid UTF-8 or not, cut anywhere, exactly like one streaming TextDecoder", () => {
    // Bytes drawn mostly from the ranges that matter: ASCII, continuation bytes, every kind of lead byte, BOM.
    const byte = fc.oneof(
      fc.integer({ min: 0, max: 0x7f }),
      fc.integer({ min: 0x80, max: 0xbf }),
      fc.integer({ min: 0xc0, max: 0xff }),
      fc.constantFrom(0xef, 0xbb, 0xbf),
    );
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 64 }), fc.array(fc.nat(), { maxLength: 10 }), (values, offsets) => {
        const bytes = new Uint8Array(values);
        const streaming = new TextDecoder("utf-8");
        const chunks = cut(bytes, offsets);
        const expected = chunks.map((chunk) => streaming.decode(chunk, { stream: true })).join("") + streaming.decode();
        expect(decodeInChunks(chunks)).toBe(expected);
        expect(decodeInChunks(chunks)).toBe(new TextDecoder("utf-8").decode(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it("decodes any text cut inside its characters, and drops a byte order mark only at the start", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), fc.array(fc.nat(), { maxLength: 10 }), (text, offsets) => {
        const bytes = new TextEncoder().encode(`\uFEFF${text}\uFEFF`);
        expect(decodeInChunks(cut(bytes, offsets))).toBe(`${text}\uFEFF`);
      }),
    );
  });
});

describe("maybeGunzip", () => {
  const text = '{"sensorId":"s-001"}\n'.repeat(1000);

  it("decompresses gzip found by its magic bytes, whatever the chunking", async () => {
    const gz = new Uint8Array(gzipSync(text));
    for (const offsets of [[1], [2], [1, 2, 3], [500]]) {
      const out = await readAllBytes(maybeGunzip(streamOf(cut(gz, offsets))));
      expect(new TextDecoder().decode(out)).toBe(text);
    }
  });

  it("passes other bytes through untouched, including one-byte and empty bodies", async () => {
    for (const body of ["", "x", text]) {
      const out = await readAllBytes(maybeGunzip(streamOf(cut(new TextEncoder().encode(body), [1]))));
      expect(new TextDecoder().decode(out)).toBe(body);
    }
  });

  it("decompresses concatenated gzip members as one stream", async () => {
    const both = Buffer.concat([gzipSync("a\n"), gzipSync("b\n")]);
    expect(new TextDecoder().decode(await readAllBytes(maybeGunzip(streamOf([new Uint8Array(both)]))))).toBe("a\nb\n");
  });

  // node:zlib where the runtime has it (process.getBuiltinModule), the web DecompressionStream where it has not.
  for (const decompressor of ["node:zlib", "DecompressionStream"] as const) {
    const withDecompressor = async <T>(run: () => Promise<T>): Promise<T> => {
      if (decompressor === "node:zlib") return run();
      const original = process.getBuiltinModule;
      (process as { getBuiltinModule?: unknown }).getBuiltinModule = undefined;
      try {
        return await run();
      } finally {
        process.getBuiltinModule = original;
      }
    };

    it(`gives back the bytes of any gzip members, however the compressed bytes are cut (${decompressor})`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.string({ unit: "binary", maxLength: 3000 }), { minLength: 1, maxLength: 3 }),
          fc.array(fc.nat(), { maxLength: 8 }),
          fc.constantFrom<"auto" | true>("auto", true),
          async (members, offsets, mode) => {
            const gz = new Uint8Array(Buffer.concat(members.map((member) => gzipSync(member))));
            const out = await withDecompressor(() => readAllBytes(maybeGunzip(streamOf(cut(gz, offsets)), mode)));
            expect(Buffer.from(out).toString("utf8")).toBe(members.join(""));
          },
        ),
        { numRuns: 60 },
      );
    });

    it(`rejects a truncated or corrupt gzip body instead of ending early (${decompressor})`, async () => {
      const gz = new Uint8Array(gzipSync(text));
      const corrupt = gz.slice();
      corrupt.fill(0xff, 20, 40);
      for (const body of [gz.slice(0, gz.length - 10), corrupt]) {
        await expect(withDecompressor(() => readAllBytes(maybeGunzip(streamOf(cut(body, [7, 100])))))).rejects.toThrow();
      }
    });

    // node:zlib only: Node's DecompressionStream reads its whole input ahead of its reader (its duplex
    // adapter does not hold the pipe back), so the source has often ended before a cancel can reach it.
    it.runIf(decompressor === "node:zlib")(`stops reading the source when the reader cancels a gzip stream (${decompressor})`, async () => {
      // Lines that hardly compress, so that the compressed body is far bigger than what is buffered.
      const lines = Array.from({ length: 40_000 }, (_, i) => `{"n":${i},"r":"${randomBytes(24).toString("hex")}"}\n`);
      const big = new Uint8Array(gzipSync(lines.join("")));
      let cancelled = false;
      const chunks = cut(
        big,
        Array.from({ length: Math.ceil(big.length / 4096) }, (_, i) => i * 4096),
      );
      let index = 0;
      const source = new ReadableStream<Uint8Array>({
        pull(controller) {
          const chunk = chunks[index++];
          if (chunk) controller.enqueue(chunk);
          else controller.close();
        },
        cancel() {
          cancelled = true;
        },
      });
      await withDecompressor(async () => {
        for await (const line of splitLines(maybeGunzip(source))) {
          expect(line.text).toBe(lines[0]?.trimEnd());
          break;
        }
      });
      expect(cancelled).toBe(true);
      expect(index).toBeLessThan(chunks.length / 2);
    });
  }
});

describe("splitJsonRecords", () => {
  const records = async (text: string, offsets: number[] = [], maxLineLength?: number) => {
    const found: Array<[number, string]> = [];
    const tooLong: number[] = [];
    const source = streamOf(cut(new TextEncoder().encode(text), offsets));
    for await (const record of splitJsonRecords(source, { maxLineLength, onLineTooLong: (head) => tooLong.push(head.number) })) {
      found.push([record.number, record.text]);
    }
    return { found, tooLong };
  };

  it("splits objects written back to back, one a line, and both mixed, at any chunking", async () => {
    const text = '{"a":1}{"b":"}{"}\n{"c":[1,{"d":2}]}\r\n[1,2]{"e":"\\"}"}\n\n{"f":3}';
    const expected: Array<[number, string]> = [
      [1, '{"a":1}'],
      [2, '{"b":"}{"}'],
      [3, '{"c":[1,{"d":2}]}'],
      [4, "[1,2]"],
      [5, '{"e":"\\"}"}'],
      [6, '{"f":3}'],
    ];
    for (const offsets of [[], [1], [7, 8], [3, 11, 12, 30], [15, 16, 17, 18, 19, 20, 40, 41, 42]]) {
      expect((await records(text, offsets)).found).toEqual(expected);
    }
  });

  it("never lets a broken record swallow the next line", async () => {
    const { found } = await records('{"a":1\n{"b":2}{"c"\nnot json\n{"d":4}');
    expect(found).toEqual([
      [1, '{"a":1'],
      [2, '{"b":2}'],
      [3, '{"c"'],
      [4, "not json"],
      [5, '{"d":4}'],
    ]);
  });

  it("splits any sequence of JSON values, however chunked", async () => {
    const value = fc.jsonValue({ maxDepth: 3 }).map((json) => JSON.stringify({ v: json }));
    await fc.assert(
      fc.asyncProperty(fc.array(value, { maxLength: 8 }), fc.array(fc.nat(300), { maxLength: 8 }), async (values, offsets) => {
        const { found } = await records(values.join(""), offsets);
        expect(found.map(([, text]) => text)).toEqual(values);
      }),
      { numRuns: 200 },
    );
  });

  it("quarantines a record over the limit and carries on", async () => {
    const big = JSON.stringify({ x: "y".repeat(3000) });
    const { found, tooLong } = await records(`{"a":1}${big}{"b":2}`, [100, 1000, 2000], 500);
    expect(found).toEqual([
      [1, '{"a":1}'],
      [3, '{"b":2}'],
    ]);
    expect(tooLong).toEqual([2]);
  });
});

describe("the text-only splitters behind event.lines()", () => {
  it("yield exactly the texts of splitLines and splitJsonRecords, with the same over-long reports", async () => {
    const { splitLineTexts, splitJsonRecordTexts } = await import("../src/runtime/lines.js");
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.string(), fc.constantFrom("\n", "\r\n", '{"a":"x\\"}"}', "[1,2]", "é", "{")), { maxLength: 30 }),
        fc.array(fc.nat(400), { maxLength: 6 }),
        fc.integer({ min: 1, max: 12 }),
        async (parts, offsets, maxLineLength) => {
          const bytes = new TextEncoder().encode(parts.join(""));
          for (const [numbered, texts] of [
            [splitLines, splitLineTexts],
            [splitJsonRecords, splitJsonRecordTexts],
          ] as const) {
            const reportsA: Array<[number, number]> = [];
            const reportsB: Array<[number, number]> = [];
            const expected: string[] = [];
            for await (const line of numbered(streamOf(cut(bytes, offsets)), {
              maxLineLength,
              onLineTooLong: (head, length) => reportsA.push([head.number, length]),
            }))
              expected.push(line.text);
            const actual: string[] = [];
            for await (const text of texts(streamOf(cut(bytes, offsets)), {
              maxLineLength,
              onLineTooLong: (head, length) => reportsB.push([head.number, length]),
            }))
              actual.push(text);
            expect(actual).toStrictEqual(expected);
            expect(reportsB).toStrictEqual(reportsA);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
