import { ConfigurationError } from "./errors.js";

/** A five-field cron, parsed: the values each field allows, and whether day fields were restricted. */
export interface ParsedCron {
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  days: ReadonlySet<number>;
  months: ReadonlySet<number>;
  /** 0 = Sunday … 6 = Saturday (a 7 in the source is Sunday too). */
  weekdays: ReadonlySet<number>;
  /** Whether day-of-month was anything but `*`. */
  daysRestricted: boolean;
  /** Whether day-of-week was anything but `*`. */
  weekdaysRestricted: boolean;
}

const MONTH_NAMES = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** Offset added to a name's index (months are 1-based). */
  nameBase?: number;
}

const FIELDS: readonly FieldSpec[] = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTH_NAMES, nameBase: 1 },
  { name: "day-of-week", min: 0, max: 7, names: DAY_NAMES, nameBase: 0 },
];

function parseValue(text: string, spec: FieldSpec, cron: string): number {
  const upper = text.toUpperCase();
  const named = spec.names?.indexOf(upper) ?? -1;
  const value = named >= 0 ? named + (spec.nameBase ?? 0) : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(value) || value < spec.min || value > spec.max) {
    throw new ConfigurationError(
      `cron ${JSON.stringify(cron)}: ${spec.name} value ${JSON.stringify(text)} is not in ${spec.min}-${spec.max}`,
    );
  }
  return value;
}

function parseField(text: string, spec: FieldSpec, cron: string): Set<number> {
  const values = new Set<number>();
  for (const part of text.split(",")) {
    const [range = "", stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1)
      throw new ConfigurationError(`cron ${JSON.stringify(cron)}: bad step in ${spec.name} ${JSON.stringify(part)}`);
    let from: number;
    let to: number;
    if (range === "*") {
      from = spec.min;
      to = spec.name === "day-of-week" ? 6 : spec.max;
    } else if (range.includes("-")) {
      const [a = "", b = ""] = range.split("-");
      from = parseValue(a, spec, cron);
      to = parseValue(b, spec, cron);
      if (from > to)
        throw new ConfigurationError(`cron ${JSON.stringify(cron)}: ${spec.name} range ${JSON.stringify(range)} runs backwards`);
    } else {
      from = parseValue(range, spec, cron);
      // "5/15" means from 5 to the end, every 15.
      to = stepText === undefined ? from : spec.name === "day-of-week" ? 6 : spec.max;
    }
    for (let value = from; value <= to; value += step) values.add(spec.name === "day-of-week" && value === 7 ? 0 : value);
  }
  return values;
}

/**
 * Parses a standard five-field cron (minute hour day-of-month month day-of-week), with `*`, ranges,
 * steps, lists and three-letter names. Extensions that not every cloud has (`?`, `L`, `W`, `#`, `@daily`)
 * are refused, so a schedule means the same everywhere.
 *
 * @example
 * ```ts
 * parseCron("*\/15 8-18 * * MON-FRI").hours; // Set {8, 9, …, 18}
 * ```
 */
export function parseCron(cron: string): ParsedCron {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5) throw new ConfigurationError(`cron ${JSON.stringify(cron)} must have five fields`);
  for (const field of fields) {
    if (!/^[\dA-Za-z*,/-]+$/.test(field))
      throw new ConfigurationError(`cron ${JSON.stringify(cron)}: ${JSON.stringify(field)} uses syntax not every cloud understands`);
  }
  const [minutes, hours, days, months, weekdays] = fields.map((field, index) =>
    parseField(field, FIELDS[index] as FieldSpec, cron),
  ) as Set<number>[];
  return {
    minutes: minutes as Set<number>,
    hours: hours as Set<number>,
    days: days as Set<number>,
    months: months as Set<number>,
    weekdays: weekdays as Set<number>,
    daysRestricted: fields[2] !== "*",
    weekdaysRestricted: fields[4] !== "*",
  };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Wall-clock parts of an instant in a time zone. */
function wallClock(instant: number, timeZone: string) {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      weekday: "short",
    });
    formatters.set(timeZone, format);
  }
  const parts = format.formatToParts(new Date(instant));
  const get = (type: string) => parts.find((part) => part.type === type)?.value ?? "";
  return {
    year: Number(get("year")),
    month: Number(get("month")),
    day: Number(get("day")),
    hour: Number(get("hour")),
    minute: Number(get("minute")),
    weekday: DAY_NAMES.indexOf(get("weekday").toUpperCase().slice(0, 3)),
  };
}

/**
 * Whether a wall-clock minute matches: Vixie cron's rule, where two restricted day fields match either.
 *
 * @example
 * ```ts
 * cronMatches(parseCron("0 6 * * 1-5"), { minute: 0, hour: 6, day: 23, month: 11, weekday: 1 }); // true
 * ```
 */
export function cronMatches(
  cron: ParsedCron,
  wall: { minute: number; hour: number; day: number; month: number; weekday: number },
): boolean {
  if (!cron.minutes.has(wall.minute) || !cron.hours.has(wall.hour) || !cron.months.has(wall.month)) return false;
  const dayMatch = cron.days.has(wall.day);
  const weekdayMatch = cron.weekdays.has(wall.weekday);
  if (cron.daysRestricted && cron.weekdaysRestricted) return dayMatch || weekdayMatch;
  return dayMatch && weekdayMatch;
}

/**
 * Every instant in `[from, to)` at which `cron` fires, read in `timeZone`: each minute's wall-clock time
 * in that zone is matched, so a time skipped by a daylight-saving change never fires and a repeated hour
 * fires twice, as cron daemons and Cloud Scheduler do.
 *
 * @example
 * ```ts
 * cronFireTimes(parseCron("30 2 * * *"), new Date("2026-03-28Z"), new Date("2026-03-31Z"), "Europe/Paris"); // skips the 29th
 * ```
 */
export function cronFireTimes(cron: ParsedCron, from: Date, to: Date, timeZone = "UTC"): Date[] {
  const fired: Date[] = [];
  const end = to.getTime();
  // The wall clock is read once an hour: zones change offset on hour boundaries, so within one UTC hour
  // the wall minute only advances. Where an offset has a half hour, the wall hour changes mid-way and
  // that minute is read afresh.
  for (let hour = Math.floor(from.getTime() / 3_600_000) * 3_600_000; hour < end; hour += 3_600_000) {
    const wall = wallClock(hour, timeZone);
    const next = wall.minute === 0 ? wall : wallClock(hour + (60 - wall.minute) * 60_000, timeZone);
    for (let minute = 0; minute < 60; minute++) {
      const instant = hour + minute * 60_000;
      if (instant < from.getTime() || instant >= end) continue;
      const wallMinute = wall.minute + minute;
      const current = wallMinute < 60 ? { ...wall, minute: wallMinute } : { ...next, minute: wallMinute - 60 };
      if (cronMatches(cron, current)) fired.push(new Date(instant));
    }
  }
  return fired;
}

function fieldsOf(cron: string): string[] {
  parseCron(cron);
  return cron.trim().split(/\s+/);
}

/**
 * A day-of-week range that ends at 7 (Sunday) cannot keep its shape once Sunday is renumbered (0, or 1 on
 * EventBridge): "5-7" is Friday to Saturday plus Sunday, and "0-7" is every day.
 */
function splitRangeEndingAtSeven(part: string): string[] {
  const wrapping = /^(\d)-7$/.exec(part);
  if (!wrapping) return [part];
  return wrapping[1] === "0" ? ["0-6"] : [`${wrapping[1]}-6`, "0"];
}

/** Day-of-week with Sunday written as 0 or SUN, remapped by `map` value by value (names are kept). */
function remapWeekdays(field: string, map: (value: number) => number): string {
  if (field === "*") return field;
  return field
    .split(",")
    .flatMap(splitRangeEndingAtSeven)
    .map((part) => {
      const [range = "", step] = part.split("/");
      const mapped =
        range === "*"
          ? range
          : range
              .split("-")
              .map((value) => (/^\d+$/.test(value) ? String(map(Number(value) === 7 ? 0 : Number(value))) : value.toUpperCase()))
              .join("-");
      return step === undefined ? mapped : `${mapped}/${step}`;
    })
    .join(",");
}

/**
 * EventBridge (rules and Scheduler): `cron(minutes hours day-of-month month day-of-week year)`, where
 * one of the two day fields must be `?` and days of the week count 1 (Sunday) to 7. A cron that restricts
 * both day fields has no EventBridge equivalent and is refused. The time zone goes to EventBridge
 * Scheduler's `ScheduleExpressionTimezone` (rules run in UTC only).
 *
 * @example
 * ```ts
 * toEventBridgeCron("0 6 * * 1-5"); // "cron(0 6 ? * 2-6 *)"
 * ```
 */
export function toEventBridgeCron(cron: string): string {
  const [minute, hour, day, month, weekday] = fieldsOf(cron) as [string, string, string, string, string];
  if (day !== "*" && weekday !== "*") {
    throw new ConfigurationError(
      `cron ${JSON.stringify(cron)} restricts both day-of-month and day-of-week, which EventBridge cannot express`,
    );
  }
  const eventBridgeWeekday = remapWeekdays(weekday, (value) => value + 1);
  const dayField = weekday === "*" ? day : "?";
  const weekdayField = weekday === "*" ? "?" : eventBridgeWeekday;
  return `cron(${minute} ${hour} ${dayField} ${month} ${weekdayField} *)`;
}

/**
 * Cloud Scheduler takes unix cron as it is, with the time zone as a separate field.
 *
 * @example
 * ```ts
 * toCloudSchedulerCron("0 6 * * 1-5"); // "0 6 * * 1-5"
 * ```
 */
export function toCloudSchedulerCron(cron: string): string {
  return fieldsOf(cron).join(" ");
}

/**
 * Azure Functions' NCRONTAB: six fields, seconds first, Sunday 0 only. The time zone is the app's
 * `WEBSITE_TIME_ZONE` setting. A cron that restricts both day fields is refused: NCRONTAB requires both to
 * match, where cron requires either.
 *
 * @example
 * ```ts
 * toNcrontab("*\/5 * * * *"); // "0 *\/5 * * * *"
 * ```
 */
export function toNcrontab(cron: string): string {
  const [minute, hour, day, month, weekday] = fieldsOf(cron) as [string, string, string, string, string];
  if (day !== "*" && weekday !== "*") {
    throw new ConfigurationError(
      `cron ${JSON.stringify(cron)} restricts both day-of-month and day-of-week, which NCRONTAB reads differently`,
    );
  }
  return `0 ${minute} ${hour} ${day} ${month} ${remapWeekdays(weekday, (value) => value)}`;
}
