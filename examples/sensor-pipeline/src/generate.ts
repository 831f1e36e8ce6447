import { gzipSync } from "node:zlib";
import type { Reading } from "./readings.js";

export interface GeneratorOptions {
  /** Number of sensors, named s-001, s-002, … Default 50. */
  sensors?: number;
  /** First reading's time. Default 2026-11-23T00:00:00Z. */
  start?: Date;
  /** Hours of data. Default 24. */
  hours?: number;
  /** Seconds between two readings of a sensor. Default 10. */
  intervalSeconds?: number;
  /** Firehose's buffer interval: one object per this many minutes. Default 15. */
  bufferMinutes?: number;
  /** Share of lines that are broken (not JSON, truncated, missing or mistyped fields). Default 0.001. */
  badLineRate?: number;
  /** Share of readings that spike out of range. Default 0.0005. */
  spikeRate?: number;
  /** Gzip every object, as Firehose does with GZIP compression (the key gets no suffix). Default false. */
  gzip?: boolean;
  /**
   * `"newline"`: one record a line (Firehose with a newline delimiter configured). `"none"`: records back
   * to back, `{…}{…}`, as Firehose writes them by default. Default `"newline"`.
   */
  delimiter?: "newline" | "none";
  /** The delivery stream's name in the keys. Default "sensor-stream". */
  stream?: string;
  /** Same seed, same files, byte for byte. Default 42. */
  seed?: number;
}

export interface GeneratedFile {
  key: string;
  body: Uint8Array;
  readings: number;
  badLines: number;
  gzip: boolean;
}

/** mulberry32: a tiny, fast, seedable generator; plenty for simulated data. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function uuidFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = "4";
  hex[16] = "89ab"[Math.floor(random() * 4)] as string;
  const s = hex.join("");
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

const pad = (value: number) => String(value).padStart(2, "0");

/**
 * Firehose's S3 key layout: `readings/YYYY/MM/DD/HH/<stream>-<version>-YYYY-MM-DD-HH-MM-SS-<uuid>`,
 * in UTC, from the time the buffer was delivered.
 */
export function firehoseKey(stream: string, delivered: Date, uuid: string, prefix = "readings/"): string {
  const y = delivered.getUTCFullYear();
  const mo = pad(delivered.getUTCMonth() + 1);
  const d = pad(delivered.getUTCDate());
  const h = pad(delivered.getUTCHours());
  const mi = pad(delivered.getUTCMinutes());
  const s = pad(delivered.getUTCSeconds());
  return `${prefix}${y}/${mo}/${d}/${h}/${stream}-1-${y}-${mo}-${d}-${h}-${mi}-${s}-${uuid}`;
}

function brokenLine(reading: Reading, random: () => number): string {
  const json = JSON.stringify(reading);
  switch (Math.floor(random() * 5)) {
    case 0:
      return json.slice(0, Math.max(1, Math.floor(json.length * random()))); // truncated mid-write
    case 1:
      return JSON.stringify({ ...reading, temperature: "21.5°C" }); // wrong type
    case 2: {
      const { sensorId: _dropped, ...rest } = reading;
      return JSON.stringify(rest); // missing field
    }
    case 3:
      return "sensor s-000 offline"; // not JSON at all
    default:
      return JSON.stringify([reading]); // JSON, but not an object
  }
}

/**
 * Simulates a day of Firehose delivery: sensors read temperature, humidity and pressure every few
 * seconds (daily cycle, noise, rare spikes, sensors that go quiet for a while), and each buffer interval
 * becomes one NDJSON object. Yields one object at a time, so memory stays small.
 */
export function* generateFirehoseFiles(options: GeneratorOptions = {}): Generator<GeneratedFile> {
  const sensors = options.sensors ?? 50;
  const start = options.start ?? new Date("2026-11-23T00:00:00Z");
  const hours = options.hours ?? 24;
  const interval = (options.intervalSeconds ?? 10) * 1000;
  const buffer = (options.bufferMinutes ?? 15) * 60_000;
  const badLineRate = options.badLineRate ?? 0.001;
  const spikeRate = options.spikeRate ?? 0.0005;
  const stream = options.stream ?? "sensor-stream";
  const random = randomSource(options.seed ?? 42);

  const profiles = Array.from({ length: sensors }, (_unused, index) => ({
    id: `s-${String(index + 1).padStart(3, "0")}`,
    baseTemperature: 15 + random() * 10,
    baseHumidity: 40 + random() * 20,
    basePressure: 1005 + random() * 15,
    phase: random() * Math.PI * 2,
    /** A sensor that is offline until this time (ms) sends nothing. */
    offlineUntil: 0,
  }));

  const end = start.getTime() + hours * 3_600_000;
  for (let windowStart = start.getTime(); windowStart < end; windowStart += buffer) {
    const windowEnd = Math.min(windowStart + buffer, end);
    const lines: string[] = [];
    let readings = 0;
    let badLines = 0;
    for (let t = windowStart; t < windowEnd; t += interval) {
      for (const sensor of profiles) {
        if (t < sensor.offlineUntil) continue;
        if (random() < 0.00002) {
          sensor.offlineUntil = t + (2 + Math.floor(random() * 9)) * 60_000; // quiet for 2 to 10 minutes
          continue;
        }
        const day = ((t % 86_400_000) / 86_400_000) * Math.PI * 2;
        const reading: Reading = {
          sensorId: sensor.id,
          time: new Date(t + Math.floor(random() * 500)).toISOString(),
          temperature: Math.round((sensor.baseTemperature + 6 * Math.sin(day + sensor.phase) + (random() - 0.5)) * 100) / 100,
          humidity: Math.round((sensor.baseHumidity - 10 * Math.sin(day + sensor.phase) + (random() - 0.5) * 2) * 100) / 100,
          pressure: Math.round((sensor.basePressure + 3 * Math.sin(day / 2) + (random() - 0.5)) * 100) / 100,
        };
        if (random() < spikeRate) reading.temperature = Math.round((60 + random() * 20) * 100) / 100;
        if (random() < spikeRate) reading.humidity = Math.round(random() * 3 * 100) / 100;
        if (random() < badLineRate) {
          lines.push(brokenLine(reading, random));
          badLines++;
        } else {
          lines.push(JSON.stringify(reading));
          readings++;
        }
      }
    }
    // Firehose delivers when the buffer interval ends (a few seconds later, in practice).
    const delivered = new Date(windowEnd + 1000 + Math.floor(random() * 4000));
    // Broken lines stay on lines of their own even without a delimiter: a half-written record followed
    // directly by the next one would be one unreadable record, which is not what a producer's crash leaves.
    const text =
      options.delimiter === "none"
        ? lines.map((line) => (line.startsWith("{") && line.endsWith("}") ? line : `\n${line}\n`)).join("")
        : lines.length > 0
          ? `${lines.join("\n")}\n`
          : "";
    const plain = new TextEncoder().encode(text);
    const gzip = options.gzip ?? false;
    yield {
      key: firehoseKey(stream, delivered, uuidFrom(random)),
      body: gzip ? new Uint8Array(gzipSync(plain)) : plain,
      readings,
      badLines,
      gzip,
    };
  }
}
