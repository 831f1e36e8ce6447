import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { epochToIsoTime, isoTimeFromMillis, normalizeIsoTime } from "../src/index.js";

describe("normalizeIsoTime", () => {
  const cases: Array<[string, string | undefined]> = [
    ["2026-11-23T14:05:00Z", "2026-11-23T14:05:00.000Z"],
    ["2026-11-23T14:05:00.1Z", "2026-11-23T14:05:00.100Z"],
    ["2026-11-23T14:05:00.123456Z", "2026-11-23T14:05:00.123Z"],
    // Seven digits (Azure) are rounded down, never up into the next millisecond.
    ["2026-11-23T14:05:00.9999999Z", "2026-11-23T14:05:00.999Z"],
    ["2026-11-23T14:05:00.1234567+00:00", "2026-11-23T14:05:00.123Z"],
    ["2026-11-23T15:05:00.5+01:00", "2026-11-23T14:05:00.500Z"],
    ["2026-11-23T09:05:00-0500", "2026-11-23T14:05:00.000Z"],
    // No zone at all (Azure's *Utc fields) is UTC.
    ["2026-11-23T14:05:00.883", "2026-11-23T14:05:00.883Z"],
    ["2026-11-23 14:05:00Z", "2026-11-23T14:05:00.000Z"],
    ["2026-02-30T00:00:00Z", undefined],
    // Already canonical strings take a fast path; these are the ones it must not wave through.
    ["2026-02-29T00:00:00.000Z", undefined],
    ["2028-02-29T00:00:00.000Z", "2028-02-29T00:00:00.000Z"],
    ["2100-02-29T00:00:00.000Z", undefined],
    ["2026-04-31T00:00:00.000Z", undefined],
    ["2026-13-01T00:00:00.000Z", undefined],
    ["2026-11-23T14:60:00.000Z", undefined],
    ["2026-11-23T24:00:00.000Z", "2026-11-24T00:00:00.000Z"],
    ["17/Jun/2024:14:48:13 +0000", undefined],
    ["", undefined],
    ["yesterday", undefined],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => {
      expect(normalizeIsoTime(input)).toBe(expected);
    });
  }

  it("returns undefined for anything that is not a string", () => {
    for (const value of [null, undefined, 1700000000, {}, []]) expect(normalizeIsoTime(value)).toBeUndefined();
  });

  it("agrees with Date for every millisecond-precision UTC time", () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date("1971-01-01T00:00:00Z"), max: new Date("2199-12-31T23:59:59Z"), noInvalidDate: true }),
        (date) => {
          expect(normalizeIsoTime(date.toISOString())).toBe(date.toISOString());
          expect(normalizeIsoTime(date.toISOString().replace("Z", "123+00:00"))).toBe(date.toISOString());
        },
      ),
    );
  });

  it("gives a canonical string (fast path) the same answer as the same time written with an offset", () => {
    const digits = (width: number, max: number) => fc.integer({ min: 0, max }).map((n) => String(n).padStart(width, "0"));
    fc.assert(
      fc.property(
        fc.tuple(digits(4, 9999), digits(2, 14), digits(2, 33), digits(2, 25), digits(2, 61), digits(2, 61), digits(3, 999)),
        ([year, month, day, hour, minute, second, millis]) => {
          const canonical = `${year}-${month}-${day}T${hour}:${minute}:${second}.${millis}Z`;
          expect(normalizeIsoTime(canonical)).toBe(normalizeIsoTime(canonical.replace("Z", "+00:00")));
          // Microseconds (Cloud Storage) and seven digits (Event Grid) take the fast path too.
          for (const extra of ["456", "4567", "9"]) {
            const longer = canonical.replace("Z", `${extra}Z`);
            expect(normalizeIsoTime(longer)).toBe(normalizeIsoTime(longer.replace("Z", "+00:00")));
          }
        },
      ),
      { numRuns: 5000 },
    );
  });
});

describe("epochToIsoTime", () => {
  it("reads float seconds (Kinesis) without float error", () => {
    expect(epochToIsoTime(1700000000.123, "s")).toBe("2023-11-14T22:13:20.123Z");
    expect(epochToIsoTime(1700000000.1239, "s")).toBe("2023-11-14T22:13:20.123Z");
  });
  it("reads millisecond numbers and strings (Firehose, SQS)", () => {
    expect(epochToIsoTime(1700000000123, "ms")).toBe("2023-11-14T22:13:20.123Z");
    expect(epochToIsoTime("1700000000123", "ms")).toBe("2023-11-14T22:13:20.123Z");
  });
  it("rejects what is not a number", () => {
    for (const value of ["", "abc", null, undefined, Number.NaN, Number.POSITIVE_INFINITY, {}])
      expect(epochToIsoTime(value, "ms")).toBeUndefined();
  });
});

describe("isoTimeFromMillis", () => {
  const MAX = 8.64e15;

  it("formats every millisecond a Date holds exactly as Date#toISOString, in any order of days", () => {
    const millis = fc.oneof(
      fc.integer({ min: -MAX, max: MAX }),
      // Around now, where events are: many in one day, so the cached day is reused and left again.
      fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
      fc.constantFrom(
        0,
        -1,
        1,
        MAX,
        -MAX,
        86_400_000,
        -86_400_000,
        86_399_999,
        -62_198_755_200_000,
        253_402_300_799_999,
        253_402_300_800_000,
      ),
    );
    fc.assert(
      fc.property(fc.array(millis, { minLength: 1, maxLength: 20 }), (values) => {
        for (const value of values) expect(isoTimeFromMillis(value)).toBe(new Date(value).toISOString());
      }),
      { numRuns: 2000 },
    );
  });

  it("goes through Date for fractions, and raises Date's RangeError outside its range", () => {
    for (const value of [1.5, -1.5, 1_700_000_000_000.9]) expect(isoTimeFromMillis(value)).toBe(new Date(value).toISOString());
    for (const value of [MAX + 1, -MAX - 1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => isoTimeFromMillis(value)).toThrow(RangeError);
    expect(epochToIsoTime(MAX + 1, "ms")).toBeUndefined();
    expect(epochToIsoTime(MAX, "ms")).toBe(new Date(MAX).toISOString());
  });
});
