import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { runEmulatorDemo } from "../src/emulators.js";

it("runs the emulator demo on two hours of gzip data: every report byte-identical across local, AWS, GCP and Azure", async () => {
  const root = await mkdtemp(join(tmpdir(), "sluice-demo-emulators-"));
  const lines: string[] = [];
  try {
    const result = await runEmulatorDemo({ sensors: 4, hours: 2, gzip: true, badLineRate: 0.02, root, print: (line) => lines.push(line) });
    expect(result.difference, lines.join("\n")).toBeUndefined();
    expect(result.identical).toBe(true);
    expect(result.files).toBe(8);
    expect(result.reports).toEqual({ local: 8, aws: 8, gcp: 8, azure: 8 });
    expect(result.failed).toEqual({ aws: 0, gcp: 0, azure: 0 });
    // The local run is the plain demo's, with every bad line quarantined.
    expect(result.local.badLines).toBeGreaterThan(0);
    expect(result.local.quarantined).toBe(result.local.generatedBadLines);
    expect(lines).toContain("  8 reports × 4 providers: identical, byte for byte");
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}, 180_000);
