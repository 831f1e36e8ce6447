import { defineFunction, destinations, triggers } from "@sluice/core";
import { DEFAULT_THRESHOLDS, SensorAnalysis, type Thresholds } from "./analysis.js";
import { parseReading } from "./readings.js";

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

export const analyzeSensors = createAnalyzeSensors();
