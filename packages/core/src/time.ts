const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Normalises a provider's timestamp to ISO 8601 UTC with millisecond precision and a `Z`:
 * microseconds and seven fractional digits are rounded down, offsets are applied, and a time without
 * a zone is read as UTC. Returns `undefined` for anything that is not a valid time.
 *
 * @example
 * ```ts
 * normalizeIsoTime("2026-11-23T14:05:00.1234567+00:00"); // "2026-11-23T14:05:00.123Z"
 * ```
 */
export function normalizeIsoTime(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const match = ISO_TIME.exec(value.trim());
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second = "00", fraction = "", zone = "Z"] = match;
  const millis = `${fraction}000`.slice(0, 3);
  const offset =
    zone === "Z" || zone === "z"
      ? "Z"
      : zone.length === 3
        ? `${zone}:00`
        : zone.includes(":")
          ? zone
          : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const parsed = Date.parse(`${year}-${month}-${day}T${hour}:${minute}:${second}.${millis}${offset}`);
  if (!Number.isFinite(parsed)) return undefined;
  // Date.parse rolls 2026-02-30 over to March; a calendar date that does not exist is not a time.
  const check = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  if (check.getUTCMonth() !== Number(month) - 1 || check.getUTCDate() !== Number(day)) return undefined;
  return new Date(parsed).toISOString();
}

/**
 * Epoch time in milliseconds or seconds (as a number or a numeric string) to ISO 8601 UTC.
 * Seconds may carry a fraction (Kinesis `approximateArrivalTimestamp`). Returns `undefined` when invalid.
 *
 * @example
 * ```ts
 * epochToIsoTime(1763906700.123, "s"); // "2025-11-23T14:05:00.123Z"
 * epochToIsoTime("1763906700123", "ms"); // "2025-11-23T14:05:00.123Z"
 * ```
 */
export function epochToIsoTime(value: unknown, unit: "s" | "ms"): string | undefined {
  const number = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isFinite(number)) return undefined;
  // Round in integer milliseconds so that 1700000000.123 s does not become .122 through float error.
  const millis = unit === "s" ? Math.floor(Math.round(number * 1_000_000) / 1000) : Math.floor(number);
  const date = new Date(millis);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/**
 * Milliseconds since the epoch to ISO 8601 UTC.
 *
 * @example
 * ```ts
 * isoTimeFromMillis(0); // "1970-01-01T00:00:00.000Z"
 * ```
 */
export function isoTimeFromMillis(millis: number): string {
  return new Date(millis).toISOString();
}
