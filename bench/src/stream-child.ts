/**
 * One streaming-analysis run in a fresh process, so that its peak RSS is its own:
 * `node --import tsx src/stream-child.ts <sluice|sluice-numbered-json|hand> <root> <bucket> <key>`.
 * Prints one JSON line: records, lines, bad lines, milliseconds, peak RSS.
 */
import { createReadStream } from "node:fs";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { createGunzip } from "node:zlib";
import { defineFunction, triggers } from "@sluice/core";
import { LocalObjectStore, toLocal } from "@sluice/local";
import { SensorAnalysis } from "../../examples/sensor-pipeline/src/analysis.js";
import { parseReading } from "../../examples/sensor-pipeline/src/readings.js";

const [mode, root, bucket, key] = process.argv.slice(2) as [string, string, string, string];

/** The same per-line work on both sides. */
function analyser() {
  const analysis = new SensorAnalysis();
  let number = 0;
  return {
    analysis,
    line(text: string, lineNumber = ++number) {
      if (text.trim() === "") return;
      analysis.addLine();
      try {
        analysis.add(parseReading(text), lineNumber);
      } catch {
        analysis.addBadLine();
      }
    },
  };
}

/** The hand-written baseline: 64 KiB reads, gunzip when the first bytes say gzip, split on \n, JSON.parse. */
async function handWritten(file: string) {
  const a = analyser();
  const head = await new Promise<Buffer>((resolve, reject) => {
    const s = createReadStream(file, { start: 0, end: 1 });
    const parts: Buffer[] = [];
    s.on("data", (c) => parts.push(c as Buffer));
    s.on("end", () => resolve(Buffer.concat(parts)));
    s.on("error", reject);
  });
  const raw = createReadStream(file, { highWaterMark: 64 * 1024 });
  const source = head[0] === 0x1f && head[1] === 0x8b ? raw.pipe(createGunzip({ chunkSize: 64 * 1024 })) : raw;
  const decoder = new StringDecoder("utf8");
  let rest = "";
  for await (const chunk of source) {
    const text = rest + decoder.write(chunk as Buffer);
    let start = 0;
    let newline = text.indexOf("\n", start);
    while (newline !== -1) {
      const end = newline > start && text.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
      a.line(text.slice(start, end));
      start = newline + 1;
      newline = text.indexOf("\n", start);
    }
    rest = text.slice(start);
  }
  rest += decoder.end();
  if (rest !== "") a.line(rest);
  return a.analysis.report({ bucket, key });
}

async function throughSluice(numbered: boolean) {
  const fn = defineFunction({
    name: "bench-analysis",
    trigger: triggers.objectCreated({ bucket }),
    async handler(event) {
      const a = analyser();
      if (numbered) {
        for await (const line of event.numberedLines({ split: "json" })) a.line(line.text, line.number);
      } else {
        for await (const line of event.lines()) a.line(line);
      }
      return a.analysis.report({ bucket: event.bucket, key: event.key });
    },
  });
  const outcome = await toLocal(fn, { store: new LocalObjectStore({ root }), logLevel: "error" }).invoke({
    kind: "object.created",
    bucket,
    key,
  });
  if (outcome.status !== "ok") throw new Error(`invocation ${outcome.status}: ${"error" in outcome ? String(outcome.error) : ""}`);
  return outcome.value as ReturnType<SensorAnalysis["report"]>;
}

const start = performance.now();
const report = mode === "hand" ? await handWritten(join(root, bucket, key)) : await throughSluice(mode === "sluice-numbered-json");
const ms = performance.now() - start;
process.stdout.write(
  `${JSON.stringify({ mode, readings: report?.readings, lines: report?.lines, badLines: report?.badLines, ms, maxRssKiB: process.resourceUsage().maxRSS })}\n`,
);
