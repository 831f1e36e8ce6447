import { describeObjectStore } from "@sluice/core/testing";
import { InvalidKeyError } from "@sluice/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { LocalObjectStore } from "../src/index.js";
import { tempRoot } from "./helpers.js";

let dir: { root: string; remove: () => Promise<void> };
beforeAll(async () => {
  dir = await tempRoot("store");
});
afterAll(async () => dir.remove());

describeObjectStore("local filesystem", async () => {
  const store = new LocalObjectStore({ root: dir.root });
  await store.createBucket("contract");
  return { store, bucket: "contract" };
});

describe("LocalObjectStore keys", () => {
  const escaping = [
    `${"a/".repeat(600)}x`,
    `${"b".repeat(256)}.txt`,
    "../outside.txt",
    "a/../../outside.txt",
    "/etc/passwd",
    "a\0b",
    "a\\..\\b",
    "a//b",
    "./a",
    "dir/",
  ];
  for (const key of escaping) {
    it(`refuses ${JSON.stringify(key.slice(0, 40))} with InvalidKeyError on every operation`, async () => {
      const store = new LocalObjectStore({ root: dir.root });
      await expect(store.put("contract", key, "x")).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(store.get("contract", key)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(store.head("contract", key)).rejects.toBeInstanceOf(InvalidKeyError);
      await expect(store.delete("contract", key)).rejects.toBeInstanceOf(InvalidKeyError);
    });
  }

  it("refuses bucket names that are paths", async () => {
    const store = new LocalObjectStore({ root: dir.root });
    for (const bucket of ["..", "../x", "a/b", ".sluice-meta", ""]) {
      await expect(store.put(bucket, "k", "x")).rejects.toBeInstanceOf(InvalidKeyError);
    }
  });

  it("describes a file copied in by hand, with no sidecar, from the file itself", async () => {
    const store = new LocalObjectStore({ root: dir.root });
    await mkdir(join(dir.root, "contract", "by-hand"), { recursive: true });
    await writeFile(join(dir.root, "contract", "by-hand", "file.txt"), "12345");
    const info = await store.head("contract", "by-hand/file.txt");
    expect(info).toMatchObject({ key: "by-hand/file.txt", size: 5 });
    expect(info?.etag).toMatch(/^[0-9a-f]+-5$/);
  });
});
