import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { main } from "../src/index.js";

const capture = () => {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (line: string) => out.push(line), err: (line: string) => err.push(line) }, out, err };
};

describe("sluice build: what it refuses, clearly", () => {
  it("an entry that exports no Sluice function", async () => {
    const { io, err } = capture();
    expect(await main(["build", fileURLToPath(new URL("./fixtures/nothing.ts", import.meta.url)), "--target", "aws"], io)).toBe(1);
    expect(err.join("\n")).toMatch(/exports no Sluice function/);
  });

  it("a target that does not exist", async () => {
    const { io, err } = capture();
    expect(await main(["build", fileURLToPath(new URL("./fixtures/entry.ts", import.meta.url)), "--target", "heroku"], io)).toBe(1);
    expect(err.join("\n")).toMatch(/--target aws, gcp or azure/);
  });
});
