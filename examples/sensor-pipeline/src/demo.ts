import { rm } from "node:fs/promises";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { readAllBytes, type Outcome, type SluiceFunction } from "@sluice/core";
import { LocalObjectStore, toLocal } from "@sluice/local";
import type { FileReport } from "./analysis.js";
import { configFromEnv, createSensorPipeline } from "./function.js";
import type { HourlyRollUp } from "./rollup.js";
import { generateFirehoseFiles } from "./generate.js";

export interface DemoOptions {
  sensors: number;
  hours: number;
  gzip: boolean;
  badLineRate: number;
  root: string;
  /** Where the progress and summary lines go. */
  print?: (line: string) => void;
  /** Whether to redraw one progress line in place (a terminal) or print a few. */
  interactive?: boolean;
}

export interface DemoSummary {
  files: number;
  failed: number;
  readings: number;
  generatedReadings: number;
  badLines: number;
  quarantined: number;
  generatedBadLines: number;
  alerts: number;
  sensors: number;
  hours: number;
  rolledUpReadings: number;
  seconds: number;
}

/**
 * Generates Firehose-style files into a local bucket while the function watches it, then sums up
 * from the reports the function wrote.
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const print = options.print ?? ((line: string) => console.log(line));
  const interactive = options.interactive ?? false;
  const values = { gzip: options.gzip };
  const config = configFromEnv();
  const root = resolve(options.root);
  const sensors = options.sensors;
  const hours = options.hours;
  const bufferMinutes = 15;
  const totalFiles = Math.ceil((hours * 60) / bufferMinutes);

  await rm(root, { recursive: true, force: true });
  const store = new LocalObjectStore({ root });
  for (const bucket of [config.rawBucket, config.reportBucket, config.quarantineBucket]) await store.createBucket(bucket);

  const started = performance.now();
  let processed = 0;
  let failed = 0;
  let written = 0;
  const reportKeys: string[] = [];

  const progress = (final = false) => {
    const width = 30;
    const done = Math.round((processed / totalFiles) * width);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const line = `  [${"#".repeat(done)}${"-".repeat(width - done)}] ${processed}/${totalFiles} files analysed, ${written} written, ${seconds} s`;
    if (interactive) process.stdout.write(`\r${line}${final ? "\n" : ""}`);
    else if (final || processed % Math.max(1, Math.floor(totalFiles / 8)) === 0) print(line);
  };

  print(
    `Sluice demo: ${sensors} sensors, ${hours} h of readings, one Firehose object per ${bufferMinutes} min${values.gzip ? ", gzip" : ""}`,
  );
  print(`  buckets under ${root}`);

  const pipeline = createSensorPipeline(config);
  const [analysis, rollUp] = pipeline.stages as [SluiceFunction, SluiceFunction];
  let rollUps = 0;
  // One roll-up at a time: each recomputes its hour from every report there, so in sequence the last one sees all.
  const rollUpWatch = toLocal(rollUp, { store, logLevel: "warn" }).watch({
    intervalMs: 25,
    concurrency: 1,
    onOutcome(_event, outcome: Outcome) {
      if (outcome.status === "ok") rollUps++;
    },
  });
  const local = toLocal(analysis, { store, logLevel: "warn" });
  const watch = local.watch({
    intervalMs: 25,
    concurrency: 2,
    onOutcome(event, outcome: Outcome) {
      processed++;
      if (outcome.status === "ok") reportKeys.push(`reports/${event.key}.json`);
      else failed++;
      progress();
    },
  });

  let generatedReadings = 0;
  let generatedBadLines = 0;
  for (const file of generateFirehoseFiles({
    sensors,
    hours,
    bufferMinutes,
    gzip: values.gzip,
    badLineRate: options.badLineRate,
  })) {
    await store.put(config.rawBucket, file.key, file.body, { contentType: "application/x-ndjson" });
    written++;
    generatedReadings += file.readings;
    generatedBadLines += file.badLines;
  }
  await watch.idle();
  await watch.close();
  await rollUpWatch.idle();
  await rollUpWatch.close();
  progress(true);

  // Sum up from the reports themselves: what the function wrote is what counts.
  let readings = 0;
  let badLines = 0;
  let alerts = 0;
  let gaps = 0;
  const sensorIds = new Set<string>();
  const sampleAlerts: FileReport["alerts"] = [];
  for (const key of reportKeys.sort()) {
    const report = JSON.parse(new TextDecoder().decode(await readAllBytes(await store.get(config.reportBucket, key)))) as FileReport;
    readings += report.readings;
    badLines += report.badLines;
    alerts += report.alerts.length;
    for (const [id, sensor] of Object.entries(report.sensors)) {
      sensorIds.add(id);
      gaps += sensor.gaps.length;
    }
    if (sampleAlerts.length < 3) sampleAlerts.push(...report.alerts.slice(0, 3 - sampleAlerts.length));
  }
  let rolledUpHours = 0;
  let rolledUpReadings = 0;
  for await (const info of store.list(config.reportBucket, { prefix: "rollups/" })) {
    const rolled = JSON.parse(new TextDecoder().decode(await readAllBytes(await store.get(config.reportBucket, info.key)))) as HourlyRollUp;
    rolledUpHours++;
    rolledUpReadings += rolled.readings;
  }
  let quarantined = 0;
  let quarantineFiles = 0;
  for await (const info of store.list(config.quarantineBucket, { prefix: "failed/" })) {
    quarantineFiles++;
    const text = new TextDecoder().decode(await readAllBytes(await store.get(config.quarantineBucket, info.key)));
    quarantined += text.split("\n").filter((line) => line !== "").length;
  }

  const seconds = (performance.now() - started) / 1000;
  print("");
  print("Summary");
  print(`  files processed     ${processed - failed} of ${written}${failed > 0 ? ` (${failed} FAILED)` : ""}`);
  print(`  readings analysed   ${readings.toLocaleString("en-US")} (generated ${generatedReadings.toLocaleString("en-US")})`);
  print(`  sensors             ${sensorIds.size}`);
  print(
    `  hourly roll-ups     ${rolledUpHours} (stage 2 ran ${rollUps} times; ${rolledUpReadings.toLocaleString("en-US")} readings rolled up)`,
  );
  print(`  out-of-range alerts ${alerts}`);
  print(`  gaps in the series  ${gaps}`);
  print(
    `  bad lines           ${badLines} counted, ${quarantined} quarantined in ${quarantineFiles} files (generated ${generatedBadLines})`,
  );
  print(`  time                ${seconds.toFixed(1)} s (${Math.round(readings / seconds).toLocaleString("en-US")} readings/s)`);
  for (const alert of sampleAlerts) {
    print(`  e.g. ${alert.sensorId} ${alert.metric} ${alert.value} at ${alert.time} (${alert.bound} ${alert.threshold})`);
  }
  print("");
  print(`  reports     ${resolve(root, config.reportBucket, "reports")}`);
  print(`  roll-ups    ${resolve(root, config.reportBucket, "rollups")}`);
  print(`  quarantine  ${resolve(root, config.quarantineBucket, "failed")}`);
  return {
    files: written,
    failed,
    readings,
    generatedReadings,
    badLines,
    quarantined,
    generatedBadLines,
    alerts,
    sensors: sensorIds.size,
    hours: rolledUpHours,
    rolledUpReadings,
    seconds,
  };
}

/** The command line: `pnpm demo [--emulators] [options]`. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sensors: { type: "string", default: "50" },
      hours: { type: "string", default: "24" },
      gzip: { type: "boolean", default: false },
      "bad-line-rate": { type: "string", default: "0.001" },
      root: { type: "string" },
      emulators: { type: "boolean", default: false },
    },
  });
  const options = {
    sensors: Number(values.sensors),
    hours: Number(values.hours),
    gzip: values.gzip,
    badLineRate: Number(values["bad-line-rate"]),
    interactive: Boolean(process.stdout.isTTY),
  };
  if (values.emulators) {
    // Loaded only here: the plain demo needs neither the emulators nor the cloud SDKs.
    const { runEmulatorDemo } = await import("./emulators.js");
    const result = await runEmulatorDemo({ ...options, root: values.root ?? ".sluice/demo-emulators" });
    if (!result.identical || Object.values(result.failed).some((count) => count > 0)) process.exitCode = 1;
  } else {
    const summary = await runDemo({ ...options, root: values.root ?? ".sluice/demo" });
    if (
      summary.failed > 0 ||
      summary.readings !== summary.generatedReadings ||
      summary.quarantined !== summary.generatedBadLines ||
      summary.rolledUpReadings !== summary.readings
    ) {
      console.error("The demo's counts do not add up: see the lines above.");
      process.exitCode = 1;
    }
  }
}

// Not awaited at the top level: emulators.ts imports this module, and a top-level await here would leave
// that import waiting on a module that is waiting on it.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
