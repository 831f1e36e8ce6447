import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { runDemo } from "../src/demo.js";

it("runs the demo end to end on a small day: every file analysed, every bad line quarantined", async () => {
  const root = await mkdtemp(join(tmpdir(), "sluice-demo-"));
  const lines: string[] = [];
  try {
    const summary = await runDemo({ sensors: 6, hours: 2, gzip: true, badLineRate: 0.01, root, print: (line) => lines.push(line) });
    expect(summary.files).toBe(8);
    expect(summary.failed).toBe(0);
    expect(summary.sensors).toBe(6);
    expect(summary.readings).toBe(summary.generatedReadings);
    expect(summary.readings).toBeGreaterThan(0);
    expect(summary.badLines).toBe(summary.generatedBadLines);
    expect(summary.quarantined).toBe(summary.generatedBadLines);
    expect(lines.join("\n")).toMatch(/files processed\s+8 of 8/);
    // Stage two: every reading reaches an hourly roll-up exactly once.
    expect(summary.hours).toBeGreaterThanOrEqual(2);
    expect(summary.rolledUpReadings).toBe(summary.readings);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
