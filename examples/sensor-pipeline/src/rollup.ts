import type { FileReport, MetricStats } from "./analysis.js";
import { METRICS, type Metric } from "./readings.js";

/** One hour of readings per sensor, merged from that hour's file reports. */
export interface HourlyRollUp {
  hour: string;
  /** The report keys merged, in key order. */
  reports: string[];
  readings: number;
  badLines: number;
  alerts: number;
  sensors: Record<string, { count: number; metrics: Record<Metric, MetricStats>; gaps: number }>;
}

/** `readings/YYYY/MM/DD/HH/…` (the raw object's key) to the hour it holds, or undefined. */
export function hourOfRawKey(key: string): string | undefined {
  const match = /^readings\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{2})\//.exec(key);
  return match ? `${match[1]}-${match[2]}-${match[3]}T${match[4]}:00:00.000Z` : undefined;
}

const round = (value: number) => Math.round(value * 1000) / 1000;

/**
 * Merges per-metric statistics the way Chan et al. combine partial variances: counts add, means weigh
 * by count, and each part's squared deviations are re-centred on the combined mean. Inputs are the
 * reports' rounded figures, so the result is exact to about the third decimal.
 */
export function mergeStats(parts: readonly MetricStats[]): MetricStats {
  const count = parts.reduce((sum, part) => sum + part.count, 0);
  if (count === 0) return { count: 0, min: 0, max: 0, mean: 0, stddev: 0 };
  const mean = parts.reduce((sum, part) => sum + part.mean * part.count, 0) / count;
  const m2 = parts.reduce((sum, part) => sum + part.count * (part.stddev ** 2 + (part.mean - mean) ** 2), 0);
  return {
    count,
    min: Math.min(...parts.map((part) => part.min)),
    max: Math.max(...parts.map((part) => part.max)),
    mean: round(mean),
    stddev: round(Math.sqrt(m2 / count)),
  };
}

/** Rolls an hour's file reports (given with their keys) up into one summary per sensor. */
export function rollUp(hour: string, reports: ReadonlyArray<{ key: string; report: FileReport }>): HourlyRollUp {
  const sorted = [...reports].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const perSensor = new Map<string, { count: number; parts: Record<Metric, MetricStats[]>; gaps: number }>();
  for (const { report } of sorted) {
    for (const [id, sensor] of Object.entries(report.sensors)) {
      let entry = perSensor.get(id);
      if (!entry) {
        entry = { count: 0, parts: { temperature: [], humidity: [], pressure: [] }, gaps: 0 };
        perSensor.set(id, entry);
      }
      entry.count += sensor.count;
      entry.gaps += sensor.gaps.length;
      for (const metric of METRICS) entry.parts[metric].push(sensor.metrics[metric]);
    }
  }
  const sensors: HourlyRollUp["sensors"] = {};
  for (const id of [...perSensor.keys()].sort()) {
    const entry = perSensor.get(id) as { count: number; parts: Record<Metric, MetricStats[]>; gaps: number };
    sensors[id] = {
      count: entry.count,
      metrics: Object.fromEntries(METRICS.map((metric) => [metric, mergeStats(entry.parts[metric])])) as Record<Metric, MetricStats>,
      gaps: entry.gaps,
    };
  }
  return {
    hour,
    reports: sorted.map(({ key }) => key),
    readings: sorted.reduce((sum, { report }) => sum + report.readings, 0),
    badLines: sorted.reduce((sum, { report }) => sum + report.badLines, 0),
    alerts: sorted.reduce((sum, { report }) => sum + report.alerts.length, 0),
    sensors,
  };
}
