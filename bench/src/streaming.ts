/** Scenario 4: the sensor analysis over a big NDJSON object, through event.lines() and by hand. */
import { spawnSync } from "node:child_process";
import { createWriteStream, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createGzip } from "node:zlib";
import { generateFirehoseFiles } from "../../examples/sensor-pipeline/src/generate.js";
import { build } from "esbuild";
import { type Summary, summarise } from "./harness.js";

const benchDir = fileURLToPath(new URL("../", import.meta.url));
export const BUCKET = "sensor-raw";

/** Writes at least `bytes` of generated readings (and, with `gzipKey`, the same bytes gzipped). */
export async function generate(root: string, key: string, bytes: number, gzipKey?: string): Promise<{ bytes: number; gzipBytes?: number }> {
  const path = join(root, BUCKET, key);
  mkdirSync(join(path, ".."), { recursive: true });
  const out = createWriteStream(path);
  let gzip: ReturnType<typeof createGzip> | undefined;
  let gzipDone: Promise<void> | undefined;
  if (gzipKey) {
    const gzPath = join(root, BUCKET, gzipKey);
    mkdirSync(join(gzPath, ".."), { recursive: true });
    gzip = createGzip({ level: 6 });
    const gzOut = createWriteStream(gzPath);
    gzip.pipe(gzOut);
    gzipDone = new Promise((resolve, reject) => {
      gzOut.on("finish", () => resolve());
      gzOut.on("error", reject);
    });
  }
  let written = 0;
  // About 70 bytes a reading: 50 sensors × 360 readings an hour ≈ 1.2 MiB an hour.
  const hours = Math.ceil(bytes / (1.1 * 1024 * 1024)) + 1;
  for (const file of generateFirehoseFiles({ hours, sensors: 50 })) {
    if (!out.write(file.body)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
    if (gzip && !gzip.write(file.body)) await new Promise<void>((resolve) => gzip?.once("drain", () => resolve()));
    written += file.body.byteLength;
    if (written >= bytes) break;
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  if (gzip) {
    gzip.end();
    await gzipDone;
  }
  return { bytes: statSync(path).size, gzipBytes: gzipKey ? statSync(join(root, BUCKET, gzipKey)).size : undefined };
}

export interface StreamRun {
  mode: string;
  readings: number;
  lines: number;
  badLines: number;
  ms: number;
  maxRssKiB: number;
}

const rootDir = fileURLToPath(new URL("../../", import.meta.url));
const childFile = join(benchDir, ".out", "stream-child.mjs");

/**
 * Bundles the child (Sluice from source, no TypeScript loader at run time) so that each run is plain
 * `node`: a loader such as tsx adds its own worker thread and tens of MiB to the RSS being measured.
 */
export async function buildChild(): Promise<void> {
  const src = (pkg: string) => join(rootDir, "packages", pkg, "src/index.ts");
  await build({
    entryPoints: [join(benchDir, "src/stream-child.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    outfile: childFile,
    logLevel: "silent",
    alias: { "@sluice/core": src("core"), "@sluice/local": src("local") },
  });
}

export function runChild(mode: string, root: string, key: string, profileDir?: string): StreamRun {
  const args = [...(profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : []), childFile, mode, root, BUCKET, key];
  const child = spawnSync(process.execPath, args, { cwd: benchDir, encoding: "utf8", maxBuffer: 1 << 20 });
  if (child.status !== 0) throw new Error(`${mode} on ${key} failed: ${child.stderr}`);
  return JSON.parse(child.stdout.trim().split("\n").pop() as string) as StreamRun;
}

export interface StreamResult {
  key: string;
  bytes: number;
  /** Mode → records/s and peak RSS (MiB) over the runs. */
  modes: Map<string, { rate: Summary; rssMiB: Summary; readings: number; badLines: number }>;
}

/** Runs every mode `runs` times on one object, interleaved, each in a fresh process. */
export function measureStreaming(root: string, key: string, bytes: number, modes: string[], runs: number): StreamResult {
  const collected = new Map<string, StreamRun[]>(modes.map((m) => [m, []]));
  for (let run = 0; run < runs; run++) {
    for (let k = 0; k < modes.length; k++) {
      const mode = modes[(run + k) % modes.length] as string;
      collected.get(mode)?.push(runChild(mode, root, key));
    }
  }
  const result: StreamResult = { key, bytes, modes: new Map() };
  for (const [mode, list] of collected) {
    const first = list[0] as StreamRun;
    for (const other of list) {
      if (other.readings !== first.readings) throw new Error(`${mode}: readings differ between runs`);
    }
    result.modes.set(mode, {
      rate: summarise(list.map((r) => r.readings / (r.ms / 1000))),
      rssMiB: summarise(list.map((r) => r.maxRssKiB / 1024)),
      readings: first.readings,
      badLines: first.badLines,
    });
  }
  return result;
}
