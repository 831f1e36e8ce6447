import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ConfigurationError,
  cronFireTimes,
  parseCron,
  type ParsedCron,
  toCloudSchedulerCron,
  toEventBridgeCron,
  toNcrontab,
} from "../src/index.js";

/**
 * Each cloud's dialect read by its own rules, independently of the translators: EventBridge's six fields
 * with `?` and Sunday as 1, NCRONTAB's seconds-first six fields, Cloud Scheduler's plain cron.
 */
function readEventBridge(expression: string): ParsedCron {
  const match = /^cron\((.*)\)$/.exec(expression);
  const fields = match?.[1]?.split(" ") ?? [];
  expect(fields).toHaveLength(6);
  const [minute, hour, day, month, weekday, year] = fields as [string, string, string, string, string, string];
  expect(year).toBe("*");
  expect([day, weekday].filter((field) => field === "?")).toHaveLength(1);
  // Sunday is 1 in EventBridge: shift numbers down by one to read them as cron.
  const weekdayAsCron =
    weekday === "?"
      ? "*"
      : weekday.replace(/\d+/g, (value, offset, text) => (text[offset - 1] === "/" ? value : String(Number(value) - 1)));
  return parseCron(`${minute} ${hour} ${day === "?" ? "*" : day} ${month} ${weekdayAsCron}`);
}

function readNcrontab(expression: string): ParsedCron {
  const fields = expression.split(" ");
  expect(fields).toHaveLength(6);
  expect(fields[0]).toBe("0");
  return parseCron(fields.slice(1).join(" "));
}

const field = (min: number, max: number) =>
  fc.oneof(
    fc.constant("*"),
    fc.integer({ min, max }).map(String),
    fc.integer({ min, max }).chain((a) => fc.integer({ min: a, max }).map((b) => `${a}-${b}`)),
    fc.integer({ min: 2, max: Math.max(2, Math.floor((max - min) / 2)) }).map((step) => `*/${step}`),
    fc.uniqueArray(fc.integer({ min, max }), { minLength: 2, maxLength: 3 }).map((values) => values.join(",")),
  );

// Portable crons: at most one of the two day fields restricted (the others are refused, tested below).
const portableCron = fc
  .tuple(field(0, 59), field(0, 23), field(1, 28), field(1, 12), field(0, 6), fc.boolean())
  .map(
    ([minute, hour, day, month, weekday, byWeekday]) => `${minute} ${hour} ${byWeekday ? "*" : day} ${month} ${byWeekday ? weekday : "*"}`,
  );

const year = { from: new Date("2026-01-01T00:00:00Z"), to: new Date("2027-01-01T00:00:00Z") };
const instants = (dates: Date[]) => dates.map((date) => date.getTime());

describe("cron compiled per cloud", () => {
  it("examples", () => {
    expect(toEventBridgeCron("0 6 * * 1-5")).toBe("cron(0 6 ? * 2-6 *)");
    expect(toEventBridgeCron("30 2 1 * *")).toBe("cron(30 2 1 * ? *)");
    expect(toEventBridgeCron("0 0 * * SUN,7")).toBe("cron(0 0 ? * SUN,1 *)");
    expect(toNcrontab("*/5 * * * *")).toBe("0 */5 * * * *");
    expect(toNcrontab("0 9 * * 7")).toBe("0 0 9 * * 0");
    expect(toCloudSchedulerCron(" 0  9 * *  MON ")).toBe("0 9 * * MON");
  });

  for (const timeZone of ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata"]) {
    it(`fires at the same instants over a year in ${timeZone}, daylight-saving changes included`, () => {
      fc.assert(
        fc.property(portableCron, (cron) => {
          const source = instants(cronFireTimes(parseCron(cron), year.from, year.to, timeZone));
          expect(instants(cronFireTimes(readEventBridge(toEventBridgeCron(cron)), year.from, year.to, timeZone))).toEqual(source);
          expect(instants(cronFireTimes(readNcrontab(toNcrontab(cron)), year.from, year.to, timeZone))).toEqual(source);
          expect(instants(cronFireTimes(parseCron(toCloudSchedulerCron(cron)), year.from, year.to, timeZone))).toEqual(source);
        }),
        { numRuns: 6 },
      );
    }, 60_000);
  }

  it("skips the hour a spring change removes and fires twice in the hour an autumn change repeats", () => {
    const daily = parseCron("30 2 * * *");
    const march = cronFireTimes(daily, new Date("2026-03-28T00:00:00Z"), new Date("2026-03-31T00:00:00Z"), "Europe/Paris");
    expect(march.map((date) => date.toISOString())).toEqual(["2026-03-28T01:30:00.000Z", "2026-03-30T00:30:00.000Z"]);
    const october = cronFireTimes(daily, new Date("2026-10-24T00:00:00Z"), new Date("2026-10-27T00:00:00Z"), "Europe/Paris");
    expect(october.map((date) => date.toISOString())).toEqual([
      "2026-10-24T00:30:00.000Z",
      "2026-10-25T00:30:00.000Z",
      "2026-10-25T01:30:00.000Z",
      "2026-10-26T01:30:00.000Z",
    ]);
  });

  it("refuses what a cloud cannot express the same way", () => {
    expect(() => toEventBridgeCron("0 0 1 * MON")).toThrow(ConfigurationError);
    expect(() => toNcrontab("0 0 1 * MON")).toThrow(ConfigurationError);
    for (const cron of ["0 0 L * *", "0 0 ? * 1", "@daily", "0 0 * * 1#2", "60 * * * *", "0 0 * 13 *"]) {
      expect(() => parseCron(cron)).toThrow(ConfigurationError);
    }
  });
});
