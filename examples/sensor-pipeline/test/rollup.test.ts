import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SensorAnalysis } from "../src/analysis.js";
import { hourOfRawKey, mergeStats, rollUp } from "../src/rollup.js";

describe("hourOfRawKey", () => {
  it("reads the hour from Firehose's key layout", () => {
    expect(hourOfRawKey("readings/2026/11/23/14/sensor-stream-1-2026-11-23-14-05-00-x")).toBe("2026-11-23T14:00:00.000Z");
    expect(hourOfRawKey("other/2026/11/23/14/x")).toBeUndefined();
  });
});

describe("mergeStats", () => {
  it("gives the statistics of the whole from those of its parts", () => {
    const value = fc.integer({ min: -5000, max: 5000 }).map((n) => n / 100);
    fc.assert(
      fc.property(fc.array(fc.array(value, { minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 6 }), (groups) => {
        const statsOf = (values: number[]) => {
          const analysis = new SensorAnalysis();
          for (const [index, temperature] of values.entries()) {
            analysis.add(
              { sensorId: "s", time: new Date(index * 1000).toISOString(), temperature, humidity: 50, pressure: 1000 },
              index + 1,
            );
          }
          return analysis.report({ bucket: "b", key: "k" }).sensors.s?.metrics.temperature;
        };
        const merged = mergeStats(groups.map((group) => statsOf(group) as NonNullable<ReturnType<typeof statsOf>>));
        const whole = statsOf(groups.flat()) as NonNullable<ReturnType<typeof statsOf>>;
        expect(merged.count).toBe(whole.count);
        expect([merged.min, merged.max]).toEqual([whole.min, whole.max]);
        // The parts are rounded to three decimals, so the merge is exact to about that.
        expect(Math.abs(merged.mean - whole.mean)).toBeLessThan(0.002);
        expect(Math.abs(merged.stddev - whole.stddev)).toBeLessThan(0.01);
      }),
      { numRuns: 200 },
    );
  });
});

describe("rollUp", () => {
  it("is the same whatever order the reports come in", () => {
    const report = (sensor: string, temperature: number) => {
      const analysis = new SensorAnalysis();
      analysis.add({ sensorId: sensor, time: "2026-11-23T14:00:00.000Z", temperature, humidity: 50, pressure: 1000 }, 1);
      return analysis.report({ bucket: "b", key: "k" });
    };
    const reports = [
      { key: "reports/a", report: report("s-1", 10) },
      { key: "reports/b", report: report("s-1", 20) },
      { key: "reports/c", report: report("s-2", 30) },
    ];
    const forward = rollUp("2026-11-23T14:00:00.000Z", reports);
    expect(rollUp("2026-11-23T14:00:00.000Z", [...reports].reverse())).toStrictEqual(forward);
    expect(forward.readings).toBe(3);
    expect(forward.sensors["s-1"]?.metrics.temperature).toMatchObject({ count: 2, min: 10, max: 20, mean: 15, stddev: 5 });
  });
});
