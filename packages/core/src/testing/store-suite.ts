import { describe, expect, it } from "vitest";
import { ObjectNotFoundError } from "../errors.js";
import { readAllBytes } from "../runtime/lines.js";
import type { ObjectInfo, ObjectStore } from "../store.js";

/** What the store suite needs: a store and a bucket in it that exists and may be written freely. */
export interface StoreSuiteSubject {
  store: ObjectStore;
  bucket: string;
  /**
   * Set when the server under test does not honour conditional writes (the reason is printed), so the
   * atomicity of `putIfAbsent` is not asserted there; the rest of the suite still runs.
   */
  conditionalWritesUnsupported?: string;
}

async function collect(iterable: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const items: ObjectInfo[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

function chunkedStream(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let index = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks[index++];
      if (chunk) controller.enqueue(chunk);
      else controller.close();
    },
  });
}

function patternBytes(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let state = seed >>> 0 || 1;
  for (let index = 0; index < size; index++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[index] = state & 0xff;
  }
  return bytes;
}

/**
 * The behaviour every `ObjectStore` must have, run against a real server (or the filesystem).
 * Each test works under its own random prefix, so a shared bucket is fine.
 *
 * @example
 * ```ts
 * describeObjectStore("S3 store on s3rver", async () => ({ store: new S3ObjectStore({ client }), bucket: "contract" }));
 * ```
 */
export function describeObjectStore(name: string, subject: () => Promise<StoreSuiteSubject> | StoreSuiteSubject): void {
  describe(`ObjectStore contract: ${name}`, () => {
    const fresh = async () => {
      const { store, bucket } = await subject();
      const prefix = `suite-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}/`;
      return { store, bucket, prefix };
    };

    it("writes text and reads the same bytes back, with head reporting size, etag and content type", async () => {
      const { store, bucket, prefix } = await fresh();
      const key = `${prefix}hello.txt`;
      const result = await store.put(bucket, key, "héllo, wörld\n", { contentType: "text/plain" });
      const bytes = await readAllBytes(await store.get(bucket, key));
      expect(new TextDecoder().decode(bytes)).toBe("héllo, wörld\n");
      const info = await store.head(bucket, key);
      expect(info?.key).toBe(key);
      expect(info?.size).toBe(new TextEncoder().encode("héllo, wörld\n").length);
      expect(info?.contentType).toMatch(/^text\/plain/);
      expect(info?.etag).toMatch(/^[^"]+$/);
      if (result.etag !== undefined) expect(result.etag).toBe(info?.etag);
    });

    it("round-trips binary bytes exactly, including NUL and 0xFF", async () => {
      const { store, bucket, prefix } = await fresh();
      const key = `${prefix}binary.bin`;
      const bytes = new Uint8Array([0, 255, 1, 254, 0x1f, 0x8b, 10, 13, 0]);
      await store.put(bucket, key, bytes);
      expect(Array.from(await readAllBytes(await store.get(bucket, key)))).toEqual(Array.from(bytes));
    });

    it("writes a multi-megabyte stream of many chunks without altering a byte", async () => {
      const { store, bucket, prefix } = await fresh();
      const key = `${prefix}streamed.bin`;
      const chunks = Array.from({ length: 48 }, (_unused, index) => patternBytes(64 * 1024 + index, index + 1));
      const expected = await readAllBytes(chunkedStream(chunks));
      await store.put(bucket, key, chunkedStream(chunks), { contentType: "application/octet-stream" });
      const actual = await readAllBytes(await store.get(bucket, key));
      expect(actual.length).toBe(expected.length);
      expect(Buffer.compare(Buffer.from(actual), Buffer.from(expected))).toBe(0);
      expect((await store.head(bucket, key))?.size).toBe(expected.length);
    });

    it("overwrites an object whole", async () => {
      const { store, bucket, prefix } = await fresh();
      const key = `${prefix}overwritten.json`;
      await store.put(bucket, key, '{"version":1,"padding":"xxxxxxxxxxxxxxxxxxxxxxxx"}');
      await store.put(bucket, key, '{"version":2}');
      expect(new TextDecoder().decode(await readAllBytes(await store.get(bucket, key)))).toBe('{"version":2}');
    });

    it("keeps keys with spaces, '+', '%', Unicode and nested slashes exactly", async () => {
      const { store, bucket, prefix } = await fresh();
      const keys = [`${prefix}a b+c%20d.txt`, `${prefix}día/naïve/日本語 🚀.txt`, `${prefix}x/y/z/deep.ndjson`];
      for (const key of keys) await store.put(bucket, key, key);
      for (const key of keys) {
        expect(new TextDecoder().decode(await readAllBytes(await store.get(bucket, key)))).toBe(key);
        expect((await store.head(bucket, key))?.key).toBe(key);
      }
      const listed = (await collect(store.list(bucket, { prefix }))).map((item) => item.key);
      expect(listed.sort()).toEqual([...keys].sort());
    });

    it("answers head of a missing object with undefined and get with ObjectNotFoundError", async () => {
      const { store, bucket, prefix } = await fresh();
      const key = `${prefix}missing.txt`;
      expect(await store.head(bucket, key)).toBeUndefined();
      const failure = await store.get(bucket, key).then(
        async (stream) => readAllBytes(stream),
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(ObjectNotFoundError);
      expect((failure as ObjectNotFoundError).bucket).toBe(bucket);
      expect((failure as ObjectNotFoundError).key).toBe(key);
    });

    it("lists exactly the keys under a prefix, in key order, with sizes", async () => {
      const { store, bucket, prefix } = await fresh();
      const inside = [`${prefix}dir/b.txt`, `${prefix}dir/a.txt`, `${prefix}dir/sub/c.txt`];
      const outside = [`${prefix}dir2/d.txt`, `${prefix}di.txt`];
      for (const key of [...inside, ...outside]) await store.put(bucket, key, `content of ${key}`);
      const listed = await collect(store.list(bucket, { prefix: `${prefix}dir/` }));
      expect(listed.map((item) => item.key)).toEqual([...inside].sort());
      for (const item of listed) expect(item.size).toBe(new TextEncoder().encode(`content of ${item.key}`).length);
      const all = await collect(store.list(bucket, { prefix }));
      expect(all.map((item) => item.key)).toEqual([...inside, ...outside].sort());
    });

    it("lists past one page of results", async () => {
      const { store, bucket, prefix } = await fresh();
      const keys = Array.from({ length: 30 }, (_unused, index) => `${prefix}page/${String(index).padStart(3, "0")}.txt`);
      await Promise.all(keys.map((key) => store.put(bucket, key, "x")));
      const listed = await collect(store.list(bucket, { prefix: `${prefix}page/` }));
      expect(listed.map((item) => item.key)).toEqual(keys);
    });

    it("deletes an object, and deleting a missing object is not an error", async () => {
      const { store, bucket, prefix } = await fresh();
      const key = `${prefix}to-delete.txt`;
      await store.put(bucket, key, "bye");
      await store.delete(bucket, key);
      expect(await store.head(bucket, key)).toBeUndefined();
      await expect(store.delete(bucket, key)).resolves.toBeUndefined();
    });

    it("creates an object with putIfAbsent only once, and never overwrites, even under concurrent calls", async (context) => {
      const { store, bucket, prefix } = await fresh();
      const { conditionalWritesUnsupported } = await subject();
      if (!store.putIfAbsent) return context.skip("this store has no putIfAbsent");
      if (conditionalWritesUnsupported) return context.skip(`conditional writes not asserted: ${conditionalWritesUnsupported}`);
      const key = `${prefix}claim`;
      expect(await store.putIfAbsent(bucket, key, "first")).toBe(true);
      expect(await store.putIfAbsent(bucket, key, "second")).toBe(false);
      expect(new TextDecoder().decode(await readAllBytes(await store.get(bucket, key)))).toBe("first");
      const contested = `${prefix}contested`;
      const results = await Promise.all(
        Array.from({ length: 8 }, (_unused, index) => store.putIfAbsent?.(bucket, contested, `writer ${index}`)),
      );
      expect(results.filter((won) => won === true)).toHaveLength(1);
      const winner = results.indexOf(true);
      expect(new TextDecoder().decode(await readAllBytes(await store.get(bucket, contested)))).toBe(`writer ${winner}`);
    });

    it("keeps user metadata with lower-case names", async () => {
      const { store, bucket, prefix } = await fresh();
      const key = `${prefix}with-metadata.txt`;
      await store.put(bucket, key, "meta", { metadata: { "sluice-hops": "2", source: "sensor-raw/readings/a" } });
      const info = await store.head(bucket, key);
      expect(info?.metadata).toMatchObject({ "sluice-hops": "2", source: "sensor-raw/readings/a" });
    });
  });
}
