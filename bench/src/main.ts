/**
 * `pnpm bench [--quick]`: every benchmark of issue 7, printed, and written to BENCHMARKS.md at the root.
 * Benchmarks print figures; they assert nothing.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BundleResult, bundleAll, measureImports } from "./coldstart.js";
import { topFrames } from "./cpuprofile-top.js";
import { type E2eResult, runEndToEnd } from "./e2e.js";
import { type Summary, fmtNs } from "./harness.js";
import { type Scenario, runInvocationBenchmarks } from "./invocation.js";
import { type StreamResult, buildChild, generate, measureStreaming, runChild } from "./streaming.js";

const quick = process.argv.includes("--quick");
const benchDir = fileURLToPath(new URL("../", import.meta.url));
const rootDir = fileURLToPath(new URL("../../", import.meta.url));
const MiB = 1024 * 1024;
const config = quick
  ? { invocation: { sampleMs: 5, samples: 5, warmupMs: 50 }, importRuns: 5, streamMiB: 20, streamRuns: 1, bigGiB: false, e2eFiles: 4 }
  : { invocation: { sampleMs: 20, samples: 15, warmupMs: 300 }, importRuns: 25, streamMiB: 200, streamRuns: 3, bigGiB: true, e2eFiles: 96 };

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;
const say = (line: string) => console.log(line);
const spread = (s: Summary, f: (n: number) => string) => `${f(s.median)} (${f(s.p25)}–${f(s.p75)})`;
const x = (value: number, base: number) => `${(value / base).toFixed(2)}×`;
const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;

function version(pkg: string): string {
  try {
    const path = join(benchDir, "node_modules", pkg, "package.json");
    return (JSON.parse(readFileSync(path, "utf8")) as { version: string }).version;
  } catch {
    return "not installed";
  }
}

// ---------------------------------------------------------------- machine
const cpu = cpus();
const commit = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: rootDir, encoding: "utf8" }).stdout.trim();
const machine = [
  `- CPU: ${cpu[0]?.model ?? "?"}, ${cpu.length} cores; ${(totalmem() / 1024 ** 3).toFixed(1)} GiB RAM; load average at start ${loadavg()
    .map((n) => n.toFixed(2))
    .join(" / ")}`,
  `- Node ${process.version} (${process.platform} ${process.arch}); commit ${commit}; mode: ${quick ? "--quick" : "full"}; ${new Date().toISOString()}`,
  `- Packages: @sluice/* ${version("@sluice/core")} (from source, this commit); @middy/core ${version("@middy/core")}; @aws-lambda-powertools/parser ${version(
    "@aws-lambda-powertools/parser",
  )}; zod ${version("zod")}; hono ${version("hono")}; @h4ad/serverless-adapter ${version("@h4ad/serverless-adapter")}; esbuild ${version(
    "esbuild",
  )}; @azure/functions ${version("@azure/functions")}; @aws-sdk/client-s3 ${version("@aws-sdk/client-s3")}`,
];
say(machine.join("\n"));

// ---------------------------------------------------------------- 1 + 2: per invocation
say(`\n== per invocation (${elapsed()})`);
const scenarios: Scenario[] = await runInvocationBenchmarks(config.invocation);
const invocationMd: string[] = [];
const TARGETS: Record<string, number> = {
  "AWS · S3, one record": 1.5,
  "AWS · S3, 100 records": 1.05,
  "AWS · HTTP API v2, POST /items/{id} with JSON": 3,
  "GCP · storage CloudEvent (finalized)": 1.5,
  "Azure · Event Grid BlobCreated (v4 app.eventGrid)": 1.5,
};
const misses: string[] = [];
for (const scenario of scenarios) {
  const base = [...scenario.results.values()][0]?.median ?? Number.NaN;
  say(scenario.name);
  invocationMd.push(`\n#### ${scenario.name}\n\n| handler | median per invocation (p25–p75) | × raw |\n| --- | --- | --- |`);
  for (const [name, result] of scenario.results) {
    const line = `${name}: ${spread(result, fmtNs)}  ${x(result.median, base)}`;
    say(`  ${line}`);
    invocationMd.push(`| ${name} | ${spread(result, fmtNs)} | ${x(result.median, base)} |`);
  }
  const sluice = [...scenario.results].find(([name]) => name.startsWith("Sluice"))?.[1];
  const target = TARGETS[scenario.name];
  if (sluice && target !== undefined) {
    const ratio = sluice.median / base;
    const met = ratio <= target;
    invocationMd.push(`\nTarget ≤ ${target}× raw: **${met ? "met" : "missed"}** (${ratio.toFixed(2)}×).`);
    if (!met) misses.push(`${scenario.name}: ${ratio.toFixed(2)}× raw (target ≤ ${target}×)`);
  }
}

// ---------------------------------------------------------------- 3: cold start
say(`\n== cold start (${elapsed()})`);
const bundles: BundleResult[] = await bundleAll(join(benchDir, ".out", "bundles"));
measureImports(bundles, config.importRuns);
const empty = bundles[0]?.importMs?.median ?? Number.NaN;
const coldMd: string[] = [
  "| bundle | minified size | of which @sluice/* | import time, median (p25–p75) | over the empty handler | external imports (platform-provided) | other clouds' SDKs found |",
  "| --- | --- | --- | --- | --- | --- | --- |",
];
for (const b of bundles) {
  const imp = b.importMs ? `${spread(b.importMs, (n) => `${n.toFixed(1)} ms`)}` : `— (${b.error ?? "?"})`;
  const delta = b.importMs ? b.importMs.median - empty : 0;
  const over = b.importMs ? `${delta >= 0 ? "+" : "−"}${Math.abs(delta).toFixed(1)} ms` : "—";
  const line = `| ${b.name} | ${b.error && !b.bytes ? "build failed" : kb(b.bytes)} | ${b.sluiceBytes ? kb(b.sluiceBytes) : "—"} | ${imp} | ${over} | ${
    b.externalImports.join(", ") || "none"
  } | ${b.foreignFound.join(", ") || "none"} |`;
  coldMd.push(line);
  say(
    `  ${b.name}: ${kb(b.bytes)} (sluice ${kb(b.sluiceBytes)}), import ${b.importMs ? b.importMs.median.toFixed(1) : "—"} ms ${b.error ?? ""}`,
  );
}

{
  const awsBundle = bundles.find((b) => b.name.startsWith("Sluice · AWS"));
  if (awsBundle && awsBundle.sluiceBytes > 10_000)
    misses.push(`cold start: the Sluice part of the Lambda bundle is ${kb(awsBundle.sluiceBytes)} minified (target ≤ 10 KB)`);
  const local = bundles.find((b) => b.name.startsWith("Sluice · local"));
  if (local?.importMs && local.importMs.median - empty > 2)
    misses.push(
      `cold start: importing Sluice alone (the toLocal bundle, no SDK) costs +${(local.importMs.median - empty).toFixed(1)} ms over the empty handler (target ≤ +2 ms)`,
    );
  const foreign = bundles.filter((b) => b.foreignFound.length > 0);
  if (foreign.length > 0) misses.push(`another cloud's SDK found in: ${foreign.map((b) => b.name).join(", ")}`);
}

// ---------------------------------------------------------------- 4: streaming
say(`\n== streaming analysis (${elapsed()})`);
await buildChild();
const MODE_NAMES: Record<string, string> = {
  hand: "hand-written 64 KiB splitter + JSON.parse",
  sluice: "Sluice `event.lines()` (toLocal, LocalObjectStore)",
  "sluice-numbered-json": 'Sluice `event.numberedLines({ split: "json" })` (as the example)',
};
const streamRoot = mkdtempSync(join(tmpdir(), "sluice-bench-stream-"));
const streams: StreamResult[] = [];
const streamProfile: string[] = [];
let bigNote = "";
try {
  const sizes = await generate(streamRoot, "readings/big.ndjson", config.streamMiB * MiB, "readings/big.ndjson.gz");
  say(`  generated ${(sizes.bytes / MiB).toFixed(0)} MiB NDJSON, ${((sizes.gzipBytes ?? 0) / MiB).toFixed(1)} MiB gzip (${elapsed()})`);
  const modes = ["hand", "sluice", "sluice-numbered-json"];
  streams.push(measureStreaming(streamRoot, "readings/big.ndjson", sizes.bytes, modes, config.streamRuns));
  streams.push(measureStreaming(streamRoot, "readings/big.ndjson.gz", sizes.gzipBytes ?? 0, modes, config.streamRuns));
  // A profile of one run through event.lines(), to show where its time goes.
  const profileDir = mkdtempSync(join(tmpdir(), "sluice-bench-prof-"));
  for (const mode of ["sluice", "hand"]) {
    rmSync(profileDir, { recursive: true, force: true });
    runChild(mode, streamRoot, "readings/big.ndjson", profileDir);
    const profileFile = readdirSync(profileDir).find((f) => f.endsWith(".cpuprofile"));
    streamProfile.push(`${MODE_NAMES[mode]}:`);
    if (profileFile)
      for (const { frame, share } of topFrames(join(profileDir, profileFile), 15))
        streamProfile.push(`  ${(share * 100).toFixed(1)}%  ${frame}`);
  }
  rmSync(profileDir, { recursive: true, force: true });
  rmSync(join(streamRoot, "sensor-raw", "readings", "big.ndjson.gz"), { force: true });
  if (config.bigGiB) {
    rmSync(join(streamRoot, "sensor-raw", "readings", "big.ndjson"), { force: true });
    const big = await generate(streamRoot, "readings/huge.ndjson", 1024 * MiB);
    say(`  generated ${(big.bytes / MiB).toFixed(0)} MiB NDJSON (${elapsed()})`);
    streams.push(measureStreaming(streamRoot, "readings/huge.ndjson", big.bytes, ["hand", "sluice"], 1));
  } else {
    bigNote = "The 1 GiB object runs only in the full mode (`pnpm bench`), not with `--quick`.";
  }
} finally {
  rmSync(streamRoot, { recursive: true, force: true });
}
const streamMd: string[] = [
  "| object | reader | records/s, median (p25–p75) | × hand-written | peak RSS, median (p25–p75) | readings | bad lines |",
  "| --- | --- | --- | --- | --- | --- | --- |",
];
for (const stream of streams) {
  const hand = stream.modes.get("hand")?.rate.median ?? Number.NaN;
  for (const [mode, r] of stream.modes) {
    const rate = spread(r.rate, (n) => `${(n / 1e6).toFixed(2)} M`);
    const rss = spread(r.rssMiB, (n) => `${n.toFixed(0)} MiB`);
    const label = `${stream.key.split("/").pop()} (${(stream.bytes / MiB).toFixed(0)} MiB${stream.key.endsWith(".gz") ? " gzip" : ""})`;
    streamMd.push(
      `| ${label} | ${MODE_NAMES[mode] ?? mode} | ${rate} | ${(r.rate.median / hand).toFixed(2)}× | ${rss} | ${r.readings} | ${r.badLines} |`,
    );
    say(`  ${label} ${mode}: ${rate} rec/s (${((r.rate.median / hand) * 100).toFixed(0)}% of hand), RSS ${rss}`);
    if (mode === "sluice") {
      if (r.rate.median / hand < 0.9)
        misses.push(`streaming ${label}: ${((r.rate.median / hand) * 100).toFixed(0)}% of the hand-written rate (target ≥ 90%)`);
      if (r.rssMiB.median > 128) misses.push(`streaming ${label}: peak RSS ${r.rssMiB.median.toFixed(0)} MiB (target ≤ 128 MiB)`);
    }
  }
}

// ---------------------------------------------------------------- 5: end to end
say(`\n== end to end on the emulators (${elapsed()})`);
const e2e: E2eResult[] = await runEndToEnd(config.e2eFiles);
const e2eMd: string[] = [
  "| route | files | MB | files/s through the function | MB/s through the function | of which reading from the store (approx.) | function and writes (rest) | upload (put) |",
  "| --- | --- | --- | --- | --- | --- | --- | --- |",
];
for (const r of e2e) {
  if (r.error) {
    e2eMd.push(`| ${r.provider} | failed: ${r.error.replace(/\|/g, "/")} | | | | | | |`);
    say(`  ${r.provider}: failed ${r.error}`);
    continue;
  }
  const s = r.functionMs / 1000;
  const readShare = Math.min(1, r.readMs / r.functionMs);
  e2eMd.push(
    `| ${r.provider} | ${r.files} (${r.reports} reports) | ${(r.bytes / 1e6).toFixed(1)} | ${(r.files / s).toFixed(1)} | ${(
      r.bytes / 1e6 / s
    ).toFixed(
      1,
    )} | ${r.readMs.toFixed(0)} ms (${(readShare * 100).toFixed(0)}%) | ${(r.functionMs - r.readMs).toFixed(0)} ms | ${r.uploadMs.toFixed(0)} ms |`,
  );
  say(
    `  ${r.provider}: ${(r.files / s).toFixed(1)} files/s, ${(r.bytes / 1e6 / s).toFixed(1)} MB/s; read ${r.readMs.toFixed(0)} ms of ${r.functionMs.toFixed(0)} ms`,
  );
}

// ---------------------------------------------------------------- profile of the per-invocation path
say(`\n== profile of toLambda on S3 × 100 (${elapsed()})`);
const invProfile: string[] = [];
{
  const profileDir = mkdtempSync(join(tmpdir(), "sluice-bench-prof-"));
  const child = spawnSync(
    process.execPath,
    ["--cpu-prof", `--cpu-prof-dir=${profileDir}`, "--import", "tsx", "src/profile-s3.ts", quick ? "1500" : "5000"],
    {
      cwd: benchDir,
      encoding: "utf8",
    },
  );
  // tsx runs a loader worker that writes its own (idle) profile: take the busiest one.
  const files = readdirSync(profileDir).filter((f) => f.endsWith(".cpuprofile"));
  const ranked = files
    .map((f) => ({ f, top: topFrames(join(profileDir, f), 15) }))
    .sort((a, b) => (a.top.find((t) => t.frame === "(idle)")?.share ?? 0) - (b.top.find((t) => t.frame === "(idle)")?.share ?? 0));
  for (const { frame, share } of ranked[0]?.top ?? []) invProfile.push(`${(share * 100).toFixed(1)}%  ${frame}`);
  say(child.stdout.trim());
  rmSync(profileDir, { recursive: true, force: true });
}

const total = elapsed();
say(`\nmisses:\n${misses.map((m) => `  - ${m}`).join("\n") || "  none"}\n\ntotal ${total}`);

// ---------------------------------------------------------------- BENCHMARKS.md
const notesPath = join(benchDir, "NOTES.md");
const notes = readFileSync(notesPath, "utf8");
const doc = `# Benchmarks

Written by \`pnpm bench${quick ? " --quick" : ""}\` (bench/src/main.ts) from the run below; ran in ${total}. Do not edit the figures by hand:
rerun. The prose sections come from bench/NOTES.md.

**These figures are noisy.** The machine is shared and was loaded by other work during the run (see the load
average). Every figure is a median with its p25–p75 spread, and every ratio compares two things measured
in the same run, interleaved, so that load hits both alike; read ratios, not absolute times.

## Machine

${machine.join("\n")}

## Targets missed in this run

${misses.map((m) => `- ${m}`).join("\n") || "- none"}

## 1–2. Per invocation

The same work in every column: read bucket, decoded key and size of each S3 record (or the storage
CloudEvent's, or the Event Grid BlobCreated's), or answer \`POST /items/{id}\` with JSON. The same event
object is passed on every call (the runtime's own \`JSON.parse\` of the event is shown for scale, not
added). Sluice gets an object store (\`options.store\`) that is never called. ${config.invocation.samples} samples of about
${config.invocation.sampleMs} ms each per handler, interleaved, after ${config.invocation.warmupMs} ms of warm-up.
${invocationMd.join("\n")}

## 3. Cold start

Each bundle: esbuild ${version("esbuild")}, \`--bundle --minify --platform=node --target=node20 --format=esm\`, the
provider's SDKs external (\`@aws-sdk/*\` as the Lambda runtime provides them; \`@google-cloud/*\` and
\`@azure/*\` left external too so that the figure is Sluice's, although those two platforms do not preinstall
them). "of which @sluice/*" sums esbuild's \`bytesInOutput\` of files under packages/. Import time:
\`await import(bundle)\` in a fresh \`node\` process, ${config.importRuns} runs each, interleaved; it includes loading the
external SDKs the bundle imports at top level, so compare each Sluice row with its SDK baseline row.
"Other clouds' SDKs found" looks at the bundle's inputs and its external imports.

${coldMd.join("\n")}

## 4. Streaming analysis

The sensor analysis of examples/sensor-pipeline (\`SensorAnalysis\` + \`parseReading\`) over one generated
NDJSON object (generate.ts, 50 sensors) and the same bytes gzipped, each run in a fresh process (a bundle
of bench/src/stream-child.ts run by plain \`node\`), ${config.streamRuns} run(s) per reader, interleaved; peak RSS is
\`process.resourceUsage().maxRSS\`. Sluice: \`toLocal(fn, { store: new LocalObjectStore({ root }) }).invoke({ kind:
"object.created", bucket, key })\`. Targets: ≥ 90% of the hand-written rate, peak RSS ≤ 128 MiB. ${bigNote}

${streamMd.join("\n")}

Profiles of one run through \`event.lines()\` and one by hand, on the plain object (self time, top frames; the file named is the bundled child, bench/.out/stream-child.mjs):

\`\`\`
${streamProfile.join("\n")}
\`\`\`

## 5. End to end on the emulators

The example's analyze-sensors function (report and quarantine destinations included) on ${config.e2eFiles} Firehose-style
objects, one invocation after another, through each adapter with its real object store against the
emulator (s3rver 3.7.1, Azurite 3.35.0, the firebase-tools Cloud Storage emulator). "Reading from the
store" is a separate pass that reads every object through the same store and nothing else: the rest of
the function's time is the analysis, the report and quarantine writes and the adapter.

${e2eMd.join("\n")}

## Profile: toLambda, S3 event with 100 records

\`node --cpu-prof\` of bench/src/profile-s3.ts (Sluice from source through tsx), self time, top frames:

\`\`\`
${invProfile.join("\n")}
\`\`\`

${notes}`;
writeFileSync(join(rootDir, "BENCHMARKS.md"), doc);
// Biome formats Markdown tables; keep `pnpm lint` green on the generated file.
spawnSync(join(rootDir, "node_modules", ".bin", "biome"), ["check", "--write", "BENCHMARKS.md"], { cwd: rootDir, stdio: "ignore" });
say(`\nwrote BENCHMARKS.md (${elapsed()})`);
