import { rm } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { readAllBytes, type Outcome } from "@sluice/core";
import { LocalObjectStore, toLocal } from "@sluice/local";
import type { FileReport } from "./analysis.js";
import { configFromEnv, createAnalyzeSensors } from "./function.js";
import { generateFirehoseFiles } from "./generate.js";

const { values } = parseArgs({
  options: {
    sensors: { type: "string", default: "50" },
    hours: { type: "string", default: "24" },
    gzip: { type: "boolean", default: false },
    "bad-line-rate": { type: "string", default: "0.001" },
    root: { type: "string", default: ".sluice/demo" },
  },
});

const config = configFromEnv();
const root = resolve(values.root);
const sensors = Number(values.sensors);
const hours = Number(values.hours);
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
  if (process.stdout.isTTY) process.stdout.write(`\r${line}${final ? "\n" : ""}`);
  else if (final || processed % Math.max(1, Math.floor(totalFiles / 8)) === 0) console.log(line);
};

console.log(
  `Sluice demo: ${sensors} sensors, ${hours} h of readings, one Firehose object per ${bufferMinutes} min${values.gzip ? ", gzip" : ""}`,
);
console.log(`  buckets under ${root}`);

const local = toLocal(createAnalyzeSensors(config), { store, logLevel: "warn" });
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
  badLineRate: Number(values["bad-line-rate"]),
})) {
  await store.put(config.rawBucket, file.key, file.body, { contentType: "application/x-ndjson" });
  written++;
  generatedReadings += file.readings;
  generatedBadLines += file.badLines;
}
await watch.idle();
await watch.close();
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
let quarantined = 0;
let quarantineFiles = 0;
for await (const info of store.list(config.quarantineBucket, { prefix: "failed/" })) {
  quarantineFiles++;
  const text = new TextDecoder().decode(await readAllBytes(await store.get(config.quarantineBucket, info.key)));
  quarantined += text.split("\n").filter((line) => line !== "").length;
}

const seconds = (performance.now() - started) / 1000;
console.log("");
console.log("Summary");
console.log(`  files processed     ${processed - failed} of ${written}${failed > 0 ? ` (${failed} FAILED)` : ""}`);
console.log(`  readings analysed   ${readings.toLocaleString("en-US")} (generated ${generatedReadings.toLocaleString("en-US")})`);
console.log(`  sensors             ${sensorIds.size}`);
console.log(`  out-of-range alerts ${alerts}`);
console.log(`  gaps in the series  ${gaps}`);
console.log(
  `  bad lines           ${badLines} counted, ${quarantined} quarantined in ${quarantineFiles} files (generated ${generatedBadLines})`,
);
console.log(`  time                ${seconds.toFixed(1)} s (${Math.round(readings / seconds).toLocaleString("en-US")} readings/s)`);
for (const alert of sampleAlerts) {
  console.log(`  e.g. ${alert.sensorId} ${alert.metric} ${alert.value} at ${alert.time} (${alert.bound} ${alert.threshold})`);
}
console.log("");
console.log(`  reports     ${resolve(root, config.reportBucket, "reports")}`);
console.log(`  quarantine  ${resolve(root, config.quarantineBucket, "failed")}`);
if (failed > 0 || readings !== generatedReadings || quarantined !== generatedBadLines) {
  console.error("The demo's counts do not add up: see the lines above.");
  process.exitCode = 1;
}
