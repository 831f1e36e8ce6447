/** One reading, as a sensor sends it: one JSON object a line. */
export interface Reading {
  sensorId: string;
  /** ISO 8601. */
  time: string;
  temperature: number;
  humidity: number;
  pressure: number;
}

export const METRICS = ["temperature", "humidity", "pressure"] as const;
export type Metric = (typeof METRICS)[number];

/** Why a line is not a reading. */
export class BadReadingError extends Error {
  override name = "BadReadingError";
}

/**
 * Parses and checks one line. Anything that is not a complete, well-typed reading is a
 * `BadReadingError`; the caller quarantines it and carries on with the file.
 */
export function parseReading(line: string): Reading {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new BadReadingError("line is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new BadReadingError("line is not a JSON object");
  const record = value as Record<string, unknown>;
  if (typeof record.sensorId !== "string" || record.sensorId === "") throw new BadReadingError("sensorId is missing");
  if (typeof record.time !== "string" || Number.isNaN(Date.parse(record.time))) throw new BadReadingError("time is missing or not a time");
  for (const metric of METRICS) {
    const reading = record[metric];
    if (typeof reading !== "number" || !Number.isFinite(reading)) throw new BadReadingError(`${metric} is not a number`);
  }
  return record as unknown as Reading;
}
