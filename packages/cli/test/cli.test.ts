import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LocalObjectStore } from "@sluice/local";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadEntry, main } from "../src/index.js";

const entry = fileURLToPath(new URL("./fixtures/entry.ts", import.meta.url));
let root: string;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) }, out, err };
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "sluice-cli-"));
});
afterEach(async () => rm(root, { recursive: true, force: true }));

describe("loadEntry", () => {
  it("compiles a TypeScript entry and finds every exported function", async () => {
    const found = await loadEntry(entry);
    expect(found.map((item) => [item.exportName, item.fn.name])).toEqual([
      ["countLines", "count-lines"],
      ["hello", "hello"],
    ]);
  });

  it("says clearly when an entry exports no function", async () => {
    await expect(loadEntry(fileURLToPath(new URL("./fixtures/nothing.ts", import.meta.url)))).rejects.toThrow(/exports no Sluice function/);
  });
});

describe("sluice invoke", () => {
  it("runs a function once on an event file and prints the outcome", async () => {
    const store = new LocalObjectStore({ root });
    await store.put("cli-raw", "in/a.ndjson", "1\n2\n3\n");
    const eventFile = join(root, "event.json");
    await writeFile(eventFile, JSON.stringify({ kind: "object.created", bucket: "cli-raw", key: "in/a.ndjson" }));
    const { io, out } = capture();
    const code = await main(
      ["invoke", entry, "--function", "count-lines", "--event", eventFile, "--root", root, "--log-level", "error"],
      io,
    );
    expect(code).toBe(0);
    expect(JSON.parse(out.join("\n"))).toEqual({ status: "ok", value: { lines: 3 } });
    expect(JSON.parse(await readFile(join(root, "cli-out", "in", "a.ndjson.json"), "utf8"))).toEqual({ lines: 3 });
  });

  it("rejects a malformed event file with the field that is wrong, and exit code 1", async () => {
    const eventFile = join(root, "bad.json");
    await writeFile(eventFile, JSON.stringify({ kind: "object.created", bucket: "cli-raw" }));
    const { io, err } = capture();
    const code = await main(["invoke", entry, "--function", "count-lines", "--event", eventFile, "--root", root], io);
    expect(code).toBe(1);
    expect(err.join("\n")).toMatch(/not a valid event: .*key/);
  });

  it("asks which function when the entry has several", async () => {
    const { io, err } = capture();
    expect(await main(["invoke", entry, "--event", "x.json"], io)).toBe(1);
    expect(err.join("\n")).toMatch(/choose one with --function/);
  });

  it("prints usage for no command and for unknown options", async () => {
    const { io, out, err } = capture();
    expect(await main([], io)).toBe(2);
    expect(out.join("\n")).toMatch(/Usage: sluice/);
    expect(await main(["dev", entry, "--bogus"], io)).toBe(2);
    expect(err.join("\n")).toMatch(/bogus/);
  });
});

describe("sluice dev", () => {
  it("watches object triggers and serves HTTP triggers until stopped", async () => {
    const { io, out } = capture();
    const stop = new AbortController();
    const running = main(["dev", entry, "--root", root, "--port", "0", "--log-level", "error"], io, stop.signal);
    const until = async (predicate: () => boolean) => {
      for (let index = 0; index < 200 && !predicate(); index++) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(predicate()).toBe(true);
    };
    await until(() => out.some((line) => line.includes("serving")));
    const url = (out.find((line) => line.includes("serving")) as string).match(/http:\/\/[^/]+/)?.[0];
    const response = await fetch(`${url}/hello/world`);
    expect(await response.json()).toEqual({ greeting: "hello world" });
    expect((await fetch(`${url}/nope`)).status).toBe(404);

    await new Promise((resolve) => setTimeout(resolve, 150));
    await new LocalObjectStore({ root }).put("cli-raw", "in/b.ndjson", "x\ny\n");
    await until(() => out.some((line) => line.includes("cli-raw/in/b.ndjson → ok")));
    stop.abort();
    expect(await running).toBe(0);
    expect(JSON.parse(await readFile(join(root, "cli-out", "in", "b.ndjson.json"), "utf8"))).toEqual({ lines: 2 });
  });

  it("runs a pipeline through a local stream: an object stage sends, a messages stage reads", async () => {
    const { io, out } = capture();
    const stop = new AbortController();
    const messagesEntry = fileURLToPath(new URL("./fixtures/messages-entry.ts", import.meta.url));
    const buckets = join(root, "buckets");
    const running = main(
      ["dev", messagesEntry, "--root", buckets, "--messages", join(root, "messages"), "--log-level", "error"],
      io,
      stop.signal,
    );
    const until = async (predicate: () => boolean) => {
      for (let index = 0; index < 200 && !predicate(); index++) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(predicate()).toBe(true);
    };
    await until(() => out.some((line) => line.includes("shout: reading stream cli-lines")));
    await new Promise((resolve) => setTimeout(resolve, 150));
    await new LocalObjectStore({ root: buckets }).put("cli-raw", "in/a.txt", "one\ntwo\nthree\n");
    await until(() => out.some((line) => line.includes("cli-raw/in/a.txt → ok")));
    await until(() => out.some((line) => /shout: \d+ messages from cli-lines → ok/.test(line)));
    stop.abort();
    expect(await running).toBe(0);
    const shouted: string[] = [];
    for await (const info of new LocalObjectStore({ root: buckets }).list("cli-out", { prefix: "shouted/" })) {
      shouted.push(...JSON.parse(await readFile(join(buckets, "cli-out", info.key), "utf8")));
    }
    expect(shouted).toEqual(["ONE", "TWO", "THREE"]);
  });
});
