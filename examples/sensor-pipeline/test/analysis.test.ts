import { describe, expect, it } from "vitest";
import { SensorAnalysis } from "../src/analysis.js";
import { BadReadingError, parseReading } from "../src/readings.js";

describe("parseReading", () => {
  it("accepts a complete reading", () => {
    const line = '{"sensorId":"s-001","time":"2026-11-23T00:00:00.000Z","temperature":21.5,"humidity":40,"pressure":1013}';
    expect(parseReading(line)).toStrictEqual({
      sensorId: "s-001",
      time: "2026-11-23T00:00:00.000Z",
      temperature: 21.5,
      humidity: 40,
      pressure: 1013,
    });
  });

  const bad: Array<[string, string]> = [
    ["not JSON", "sensor offline"],
    ["truncated JSON", '{"sensorId":"s-001","ti'],
    ["an array", "[1,2]"],
    ["a missing sensor", '{"time":"2026-11-23T00:00:00Z","temperature":1,"humidity":1,"pressure":1}'],
    ["a bad time", '{"sensorId":"s","time":"noon","temperature":1,"humidity":1,"pressure":1}'],
    ["a temperature as text", '{"sensorId":"s","time":"2026-11-23T00:00:00Z","temperature":"21°C","humidity":1,"pressure":1}'],
    ["a missing pressure", '{"sensorId":"s","time":"2026-11-23T00:00:00Z","temperature":1,"humidity":1}'],
  ];
  for (const [name, line] of bad) {
    it(`rejects ${name} with BadReadingError`, () => {
      expect(() => parseReading(line)).toThrow(BadReadingError);
    });
  }
});

describe("SensorAnalysis", () => {
  const reading = (sensorId: string, second: number, temperature: number) => ({
    sensorId,
    time: new Date(Date.UTC(2026, 10, 23, 0, 0, second)).toISOString(),
    temperature,
    humidity: 50,
    pressure: 1000,
  });

  it("computes count, min, max, mean and population stddev per sensor and metric", () => {
    const analysis = new SensorAnalysis();
    for (const [index, temperature] of [2, 4, 4, 4, 5, 5, 7, 9].entries())
      analysis.add(reading("s-001", index * 10, temperature), index + 1);
    const report = analysis.report({ bucket: "b", key: "k" });
    expect(report.sensors["s-001"]?.metrics.temperature).toStrictEqual({ count: 8, min: 2, max: 9, mean: 5, stddev: 2 });
    expect(report.sensors["s-001"]?.metrics.humidity).toStrictEqual({ count: 8, min: 50, max: 50, mean: 50, stddev: 0 });
  });

  it("raises an alert for each value outside its range, with the line it came from", () => {
    const analysis = new SensorAnalysis();
    analysis.add(reading("s-001", 0, 46), 7);
    analysis.add(reading("s-001", 10, -25), 8);
    analysis.add(reading("s-001", 20, 45), 9);
    expect(analysis.report({ bucket: "b", key: "k" }).alerts).toStrictEqual([
      { sensorId: "s-001", time: "2026-11-23T00:00:00.000Z", metric: "temperature", value: 46, bound: "max", threshold: 45, line: 7 },
      { sensorId: "s-001", time: "2026-11-23T00:00:10.000Z", metric: "temperature", value: -25, bound: "min", threshold: -20, line: 8 },
    ]);
  });

  it("finds gaps longer than the threshold and counts readings out of order without a false gap", () => {
    const analysis = new SensorAnalysis();
    for (const [index, second] of [0, 10, 20, 200, 150, 210].entries()) analysis.add(reading("s-002", second, 20), index + 1);
    const sensor = analysis.report({ bucket: "b", key: "k" }).sensors["s-002"];
    expect(sensor?.gaps).toStrictEqual([{ from: "2026-11-23T00:00:20.000Z", to: "2026-11-23T00:03:20.000Z", seconds: 180 }]);
    expect(sensor?.outOfOrder).toBe(1);
    expect([sensor?.first, sensor?.last]).toEqual(["2026-11-23T00:00:00.000Z", "2026-11-23T00:03:30.000Z"]);
  });
});
