import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { epochToIsoTime, normalizeIsoTime } from "../src/index.js";

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
