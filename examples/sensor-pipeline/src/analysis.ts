import { METRICS, type Metric, type Reading } from "./readings.js";

export interface Thresholds {
  /** Inclusive range per metric; a reading outside it raises an alert. */
  ranges: Record<Metric, { min: number; max: number }>;
  /** A silence longer than this between two readings of a sensor is a gap. */
  gapSeconds: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  ranges: {
    temperature: { min: -20, max: 45 },
    humidity: { min: 5, max: 95 },
    pressure: { min: 950, max: 1050 },
  },
  gapSeconds: 60,
};

export interface MetricStats {
  count: number;
  min: number;
  max: number;
  mean: number;
  stddev: number;
}

export interface Gap {
  from: string;
  to: string;
  seconds: number;
}

export interface Alert {
  sensorId: string;
  time: string;
  metric: Metric;
  value: number;
  bound: "min" | "max";
  threshold: number;
  line: number;
}

export interface SensorReport {
  count: number;
  first: string;
  last: string;
  metrics: Record<Metric, MetricStats>;
  gaps: Gap[];
  /** Readings whose time was earlier than the sensor's previous one (not used for gaps). */
  outOfOrder: number;
}

/** The report for one input object. It holds nothing that depends on where or when it ran. */
export interface FileReport {
  source: { bucket: string; key: string };
  lines: number;
  readings: number;
  badLines: number;
  sensorCount: number;
  window: { from: string; to: string } | null;
  sensors: Record<string, SensorReport>;
  alerts: Alert[];
}

/** Running statistics with Welford's method: one pass, constant memory, numerically stable. */
class RunningStats {
  count = 0;
  min = Number.POSITIVE_INFINITY;
  max = Number.NEGATIVE_INFINITY;
  private mean = 0;
  private m2 = 0;

  add(value: number) {
    this.count++;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    const delta = value - this.mean;
    this.mean += delta / this.count;
    this.m2 += delta * (value - this.mean);
  }

  summary(): MetricStats {
    return {
      count: this.count,
      min: round(this.min),
      max: round(this.max),
      mean: round(this.mean),
      // Population standard deviation: the readings are the whole of what the file holds.
      stddev: round(this.count > 0 ? Math.sqrt(this.m2 / this.count) : 0),
    };
  }
}

class SensorState {
  readonly stats = Object.fromEntries(METRICS.map((metric) => [metric, new RunningStats()])) as Record<Metric, RunningStats>;
  count = 0;
  firstMs = Number.POSITIVE_INFINITY;
  lastMs = Number.NEGATIVE_INFINITY;
  /** The latest time seen so far, for gap detection. */
  previousMs: number | undefined;
  readonly gaps: Gap[] = [];
  outOfOrder = 0;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/**
 * Accumulates one file's readings into per-sensor statistics, alerts and gaps, in one pass with memory
 * bounded by the number of sensors (plus alerts and gaps found).
 */
export class SensorAnalysis {
  private readonly sensors = new Map<string, SensorState>();
  private readonly alerts: Alert[] = [];
  private lines = 0;
  private readings = 0;
  private badLines = 0;

  constructor(private readonly thresholds: Thresholds = DEFAULT_THRESHOLDS) {}

  addLine() {
    this.lines++;
  }

  addBadLine() {
    this.badLines++;
  }

  add(reading: Reading, line: number) {
    this.readings++;
    let sensor = this.sensors.get(reading.sensorId);
    if (!sensor) {
      sensor = new SensorState();
      this.sensors.set(reading.sensorId, sensor);
    }
    const timeMs = Date.parse(reading.time);
    sensor.count++;
    if (timeMs < sensor.firstMs) sensor.firstMs = timeMs;
    if (timeMs > sensor.lastMs) sensor.lastMs = timeMs;
    if (sensor.previousMs !== undefined && timeMs < sensor.previousMs) {
      sensor.outOfOrder++;
    } else {
      if (sensor.previousMs !== undefined && timeMs - sensor.previousMs > this.thresholds.gapSeconds * 1000) {
        sensor.gaps.push({
          from: new Date(sensor.previousMs).toISOString(),
          to: new Date(timeMs).toISOString(),
          seconds: (timeMs - sensor.previousMs) / 1000,
        });
      }
      sensor.previousMs = timeMs;
    }
    for (const metric of METRICS) {
      const value = reading[metric];
      sensor.stats[metric].add(value);
      const range = this.thresholds.ranges[metric];
      if (value < range.min || value > range.max) {
        const bound = value < range.min ? "min" : "max";
        this.alerts.push({
          sensorId: reading.sensorId,
          time: new Date(timeMs).toISOString(),
          metric,
          value,
          bound,
          threshold: range[bound],
          line,
        });
      }
    }
  }

  report(source: { bucket: string; key: string }): FileReport {
    const ids = [...this.sensors.keys()].sort();
    const sensors: Record<string, SensorReport> = {};
    let from = Number.POSITIVE_INFINITY;
    let to = Number.NEGATIVE_INFINITY;
    for (const id of ids) {
      const state = this.sensors.get(id) as SensorState;
      from = Math.min(from, state.firstMs);
      to = Math.max(to, state.lastMs);
      sensors[id] = {
        count: state.count,
        first: new Date(state.firstMs).toISOString(),
        last: new Date(state.lastMs).toISOString(),
        metrics: Object.fromEntries(METRICS.map((metric) => [metric, state.stats[metric].summary()])) as Record<Metric, MetricStats>,
        gaps: state.gaps,
        outOfOrder: state.outOfOrder,
      };
    }
    return {
      source,
      lines: this.lines,
      readings: this.readings,
      badLines: this.badLines,
      sensorCount: ids.length,
      window: ids.length > 0 ? { from: new Date(from).toISOString(), to: new Date(to).toISOString() } : null,
      sensors,
      alerts: this.alerts,
    };
  }
}
