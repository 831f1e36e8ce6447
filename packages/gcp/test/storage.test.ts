import { type Server, createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { Storage } from "@google-cloud/storage";
import { ObjectNotFoundError, StorageError, readAllBytes } from "@sluice/core";
import { describeObjectStore } from "@sluice/core/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { GcsObjectStore } from "../src/index.js";
import { emulatorStorage } from "./helpers.js";

// A small page size so that the suite's 30-object listing crosses several pages.
describeObjectStore("GCS on the Cloud Storage emulator", () => ({
  store: new GcsObjectStore({ storage: emulatorStorage(), pageSize: 7 }),
  bucket: "store-suite",
  conditionalWritesUnsupported: "the Cloud Storage emulator ignores ifGenerationMatch",
}));

/**
 * A loopback proxy in front of the emulator that records each request's URL and, because the emulator
 * ignores preconditions, answers an upload carrying `ifGenerationMatch=0` with 412 when the object
 * already exists there (what Cloud Storage does), else forwards it.
 */
let proxy: Server;
let proxyUrl = "";
const seen: string[] = [];

beforeAll(async () => {
  const target = new URL(inject("gcsEmulator").url);
  const direct = emulatorStorage();
  proxy = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://proxy");
    seen.push(`${req.method} ${url.pathname}?${url.searchParams.toString()}`);
    const bucket = /\/b\/([^/]+)\/o/.exec(url.pathname)?.[1];
    const name = url.searchParams.get("name");
    if (url.searchParams.get("ifGenerationMatch") === "0" && bucket && name) {
      const [exists] = await direct.bucket(decodeURIComponent(bucket)).file(name).exists();
      if (exists) {
        req.resume();
        res.writeHead(412, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: 412, message: "At least one of the pre-conditions you specified did not hold." } }));
        return;
      }
    }
    const forward = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
      (upstream) => {
        res.writeHead(upstream.statusCode ?? 502, upstream.headers);
        upstream.pipe(res);
      },
    );
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", () => resolve()));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  proxy.closeAllConnections();
  await new Promise<void>((resolve) => proxy.close(() => resolve()));
});

describe("GcsObjectStore", () => {
  it("still gives its default client through the synchronous getter, although the SDK is loaded on first use", () => {
    const store = new GcsObjectStore({ storageOptions: { projectId: "sluice-demo" } });
    // Read first, the getter loads the SDK's CommonJS build (synchronously), so its class is not the one
    // this ESM test imported: compare by shape.
    expect(store.storage.constructor.name).toBe(Storage.name);
    expect(typeof store.storage.bucket).toBe("function");
    expect(store.storage).toBe(store.storage);
  });

  it("rejects get of a missing object with ObjectNotFoundError naming bucket and key", async () => {
    const store = new GcsObjectStore({ storage: emulatorStorage() });
    const error = await store.get("store-errors", "nothing/here.txt").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ObjectNotFoundError);
    expect(error).toMatchObject({ bucket: "store-errors", key: "nothing/here.txt" });
  });

  it("streams an empty object as zero bytes", async () => {
    const store = new GcsObjectStore({ storage: emulatorStorage() });
    const key = `empty/${Date.now()}.ndjson`;
    await store.put("store-errors", key, "");
    expect((await readAllBytes(await store.get("store-errors", key))).length).toBe(0);
    expect((await store.head("store-errors", key))?.size).toBe(0);
  });

  it("turns an unreachable server into a StorageError, not a raw client error", async () => {
    // Port 9 on loopback: nothing listens there, so the connection is refused at once.
    const storage = new Storage({ apiEndpoint: "http://127.0.0.1:9", projectId: "demo-sluice", retryOptions: { autoRetry: false } });
    await expect(new GcsObjectStore({ storage }).head("any", "key")).rejects.toBeInstanceOf(StorageError);
  });

  it("putIfAbsent sends ifGenerationMatch=0, creates once, and reads Cloud Storage's 412 as 'already there'", async () => {
    const { projectId } = inject("gcsEmulator");
    const store = new GcsObjectStore({ storage: new Storage({ apiEndpoint: proxyUrl, projectId }) });
    const key = `claims/${Date.now()}/ä b.json`;
    seen.length = 0;
    expect(await store.putIfAbsent("store-conditional", key, '{"first":true}', { contentType: "application/json" })).toBe(true);
    expect(seen.some((line) => line.startsWith("POST ") && line.includes("ifGenerationMatch=0"))).toBe(true);
    expect(await store.putIfAbsent("store-conditional", key, '{"first":false}')).toBe(false);
    const stored = new TextDecoder().decode(await readAllBytes(await store.get("store-conditional", key)));
    expect(stored).toBe('{"first":true}');
  });
});
