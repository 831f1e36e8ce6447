import { definePipeline, defineFunction, destinations, readAllBytes, triggers } from "@sluice/core";
import { DEFAULT_THRESHOLDS, type FileReport, SensorAnalysis, type Thresholds } from "./analysis.js";
import { parseReading } from "./readings.js";
import { hourOfRawKey, rollUp } from "./rollup.js";

export interface SensorPipelineConfig {
  rawBucket: string;
  reportBucket: string;
  quarantineBucket: string;
  thresholds: Thresholds;
}

/** Bucket names may differ per deployment (S3 names are global): read them from the environment. */
export function configFromEnv(env: Record<string, string | undefined> = process.env): SensorPipelineConfig {
  return {
    rawBucket: env.SENSOR_RAW_BUCKET ?? "sensor-raw",
    reportBucket: env.SENSOR_REPORT_BUCKET ?? "sensor-reports",
    quarantineBucket: env.SENSOR_QUARANTINE_BUCKET ?? "sensor-quarantine",
    thresholds: DEFAULT_THRESHOLDS,
  };
}

/**
 * The sensor-analysis function: for each NDJSON object that lands under `readings/`, per-sensor
 * statistics, out-of-range alerts and gaps go to a report; each bad line goes to quarantine with its
 * line number, and the rest of the file completes.
 */
export function createAnalyzeSensors(config: SensorPipelineConfig = configFromEnv()) {
  return defineFunction({
    name: "analyze-sensors",
    trigger: triggers.objectCreated({ bucket: config.rawBucket, prefix: "readings/" }),
    // The report's key derives from the input's key, so a redelivered event rewrites the same report.
    destination: destinations.objectStore({ bucket: config.reportBucket, key: ({ event }) => `reports/${event.key}.json` }),
    onFailure: destinations.objectStore({ bucket: config.quarantineBucket, key: ({ event }) => `failed/${event.key}.ndjson` }),
    async handler(event, ctx) {
      const analysis = new SensorAnalysis(config.thresholds);
      // "json" splits records one a line or back to back ({…}{…}), whichever way Firehose was set up.
      for await (const line of event.numberedLines({ split: "json" })) {
        if (line.text.trim() === "") continue;
        analysis.addLine();
        try {
          analysis.add(parseReading(line.text), line.number);
        } catch (error) {
          analysis.addBadLine();
          ctx.quarantine({ error, line: line.number, raw: line.text });
        }
      }
      const report = analysis.report({ bucket: event.bucket, key: event.key });
      ctx.log.info("file analysed", { key: event.key, readings: report.readings, badLines: report.badLines, alerts: report.alerts.length });
      return report;
    },
  });
}

/**
 * The second stage: each new report starts a roll-up of its hour. The roll-up is recomputed from every
 * report of that hour, so it is the same whatever order reports arrive in, and a redelivery rewrites it
 * identically.
 */
export function createRollUpHourly(config: SensorPipelineConfig = configFromEnv()) {
  return defineFunction({
    name: "roll-up-hourly",
    trigger: triggers.objectCreated({ bucket: config.reportBucket, prefix: "reports/readings/", suffix: ".json" }),
    destination: destinations.objectStore({
      bucket: config.reportBucket,
      key: ({ event }) =>
        `rollups/${(hourOfRawKey(event.key?.slice("reports/".length) ?? "") ?? "unknown").slice(0, 13).replace("T", "/")}.json`,
    }),
    async handler(event, ctx) {
      const rawKey = event.key.slice("reports/".length, -".json".length);
      const hour = hourOfRawKey(rawKey);
      if (!hour) throw new Error(`report ${event.key} is not for a readings/YYYY/MM/DD/HH/ object`);
      const hourPrefix = `reports/${rawKey.slice(0, "readings/YYYY/MM/DD/HH/".length)}`;
      const reports: Array<{ key: string; report: FileReport }> = [];
      for await (const info of ctx.store.list(event.bucket, { prefix: hourPrefix })) {
        const text = new TextDecoder().decode(await readAllBytes(await ctx.store.get(event.bucket, info.key)));
        reports.push({ key: info.key, report: JSON.parse(text) as FileReport });
      }
      return rollUp(hour, reports);
    },
  });
}

export const analyzeSensors = createAnalyzeSensors();
export const rollUpHourly = createRollUpHourly();

/** Both stages, checked together: the analysis's reports feed the roll-up, and nothing loops back. */
export function createSensorPipeline(config: SensorPipelineConfig = configFromEnv()) {
  return definePipeline([createAnalyzeSensors(config), createRollUpHourly(config)], { name: "sensor-pipeline" });
}
