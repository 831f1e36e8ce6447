import { readAllBytes } from "@sluice/core";
import { S3Client } from "@aws-sdk/client-s3";
import { describe, expect, inject, it } from "vitest";
import { S3ObjectStore } from "../src/index.js";
import { s3rverClient } from "../../../tools/emulators/src/index.js";

describe("S3ObjectStore beyond the shared suite", () => {
  it("sends putIfAbsent as a conditional PutObject (If-None-Match: *) and stores the body", async () => {
    const client = s3rverClient(inject("s3rverPort"));
    const conditions: Array<string | undefined> = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        conditions.push((args.request as { headers: Record<string, string> }).headers["if-none-match"]);
        return next(args);
      },
      { step: "finalizeRequest" },
    );
    const store = new S3ObjectStore({ client });
    const key = `claims/${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    expect(await store.putIfAbsent("store-suite", key, "first", { contentType: "text/plain" })).toBe(true);
    expect(conditions).toEqual(["*"]);
    expect(new TextDecoder().decode(await readAllBytes(await store.get("store-suite", key)))).toBe("first");
  });

  it("reports a store that cannot be reached as a StorageError naming the operation, bucket and key", async () => {
    const store = new S3ObjectStore({ client: s3rverClient(1) });
    await expect(store.head("store-suite", "a")).rejects.toMatchObject({
      name: "StorageError",
      operation: "head",
      bucket: "store-suite",
      key: "a",
    });
    await expect(store.put("store-suite", "a", "x")).rejects.toMatchObject({ name: "StorageError", operation: "put" });
  });

  it("still gives its default client through the synchronous getter, although the SDK is loaded on first use", () => {
    const store = new S3ObjectStore({ clientConfig: { region: "eu-west-1" } });
    expect(store.client).toBeInstanceOf(S3Client);
    expect(store.client).toBe(store.client);
  });
});
