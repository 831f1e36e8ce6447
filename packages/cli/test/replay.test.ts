import { mkdtemp, readFile, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineFunction, destinations, silentLogger, triggers } from "@sluice/core";
import { LocalObjectStore } from "@sluice/local";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { main, openReplaySource, replay } from "../src/index.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-replay-"));
});
afterEach(async () => rm(root, { recursive: true, force: true }));

const entry = fileURLToPath(new URL("./fixtures/entry.ts", import.meta.url));
const read = async (path: string) => readFile(path, "utf8");

describe("sluice replay", () => {
  it("runs a function over existing objects, writes the same outputs a live run would, and resumes from its checkpoint", async () => {
    const store = new LocalObjectStore({ root });
    for (let index = 0; index < 5; index++) await store.put("cli-raw", `in/${index}.ndjson`, "x\n".repeat(index + 1));
    await store.put("cli-raw", "elsewhere/skip.ndjson", "x\n");
    const checkpoint = join(root, "checkpoint.ndjson");
    const out: string[] = [];
    const io = { out: (line: string) => out.push(line), err: () => undefined };
    const args = [
      "replay",
      entry,
      "--function",
      "count-lines",
      "--from",
      join(root, "cli-raw"),
      "--checkpoint",
      checkpoint,
      "--log-level",
      "error",
    ];

    expect(await main(args, io)).toBe(0);
    for (let index = 0; index < 5; index++) {
      expect(JSON.parse(await read(join(root, "cli-out", "in", `${index}.ndjson.json`)))).toEqual({ lines: index + 1 });
    }
    expect(out.join("\n")).toMatch(/6 objects/);
    expect(out.join("\n")).toMatch(/ok\s+5/);
    expect(out.join("\n")).toMatch(/outside the trigger\s+1/);
    expect((await read(checkpoint)).trim().split("\n")).toHaveLength(6);

    out.length = 0;
    expect(await main(args, io)).toBe(0);
    expect(out.join("\n")).toMatch(/already done \(checkpoint\) 6/);
  });

  it("leaves failed objects out of the checkpoint so the next run retries exactly them", async () => {
    const store = new LocalObjectStore({ root });
    for (const name of ["a", "b", "c"]) await store.put("raw", `in/${name}`, name);
    let broken = true;
    const seen: string[] = [];
    const fn = defineFunction({
      name: "flaky",
      trigger: triggers.objectCreated({ bucket: "raw" }),
      destination: destinations.objectStore({ bucket: "out", key: ({ event }) => `${event.key}.txt` }),
      async handler(event) {
        seen.push(event.key);
        if (broken && event.key === "in/b") throw new Error("b is broken today");
        return event.text();
      },
    });
    const source = await openReplaySource(join(root, "raw"));
    const checkpoint = join(root, "cp.ndjson");
    const first = await replay(fn, source, { checkpoint, log: silentLogger, concurrency: 2 });
    expect(first.failed.map((failure) => failure.key)).toEqual(["in/b"]);
    expect(first.ok).toBe(2);
    broken = false;
    seen.length = 0;
    const second = await replay(fn, source, { checkpoint, log: silentLogger });
    expect(seen).toEqual(["in/b"]);
    expect(second).toMatchObject({ objects: 3, skippedByCheckpoint: 2, ok: 1, failed: [] });
  });

  it("selects objects by prefix and modification time, and lists without running on a dry run", async () => {
    const store = new LocalObjectStore({ root });
    await store.put("raw", "in/old", "1");
    await store.put("raw", "in/new", "2");
    await store.put("raw", "other/new", "3");
    await utimes(join(root, "raw", "in", "old"), new Date("2026-01-01T00:00:00Z"), new Date("2026-01-01T00:00:00Z"));
    const seen: string[] = [];
    const fn = defineFunction({
      name: "seen",
      trigger: triggers.objectCreated({ bucket: "raw" }),
      handler: (event) => void seen.push(event.key),
    });
    const source = await openReplaySource(join(root, "raw"));
    const dry = await replay(fn, source, {
      prefix: "in/",
      since: new Date("2026-06-01T00:00:00Z"),
      dryRun: true,
      checkpoint: join(root, "a"),
      log: silentLogger,
    });
    expect([dry.objects, dry.dryRun, seen]).toEqual([1, true, []]);
    await replay(fn, source, { prefix: "in/", since: new Date("2026-06-01T00:00:00Z"), checkpoint: join(root, "b"), log: silentLogger });
    expect(seen).toEqual(["in/new"]);
    await replay(fn, source, { until: new Date("2026-06-01T00:00:00Z"), checkpoint: join(root, "c"), log: silentLogger });
    expect(seen).toEqual(["in/new", "in/old"]);
  });

  it("refuses a source it cannot open and a function that is not object-triggered", async () => {
    await expect(openReplaySource("ftp://example/x")).rejects.toThrow(/s3:\/\/, gs:\/\/, azblob:\/\//);
    const fn = defineFunction({ name: "web", trigger: triggers.http(), handler: () => "x" });
    await expect(replay(fn, await openReplaySource(root), { log: silentLogger })).rejects.toThrow(/needs an object.created trigger/);
  });
});
