import { describeObjectStore } from "@sluice/core/testing";
import { ObjectNotFoundError, StorageError } from "@sluice/core";
import { describe, expect, it } from "vitest";
import { GcsObjectStore } from "../src/index.js";
import { emulatorStorage } from "./helpers.js";

// A small page size so that the suite's 30-object listing crosses several pages.
describeObjectStore("GCS on the Cloud Storage emulator", () => ({
  store: new GcsObjectStore({ storage: emulatorStorage(), pageSize: 7 }),
  bucket: "store-suite",
}));

describe("GcsObjectStore errors", () => {
  it("rejects get of a missing object with ObjectNotFoundError naming bucket and key", async () => {
    const store = new GcsObjectStore({ storage: emulatorStorage() });
    const error = await store.get("store-errors", "nothing/here.txt").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ObjectNotFoundError);
    expect(error).toMatchObject({ bucket: "store-errors", key: "nothing/here.txt" });
  });

  it("turns an unreachable server into a StorageError, not a raw client error", async () => {
    const { Storage } = await import("@google-cloud/storage");
    // Port 9 on loopback: nothing listens there, so the connection is refused at once.
    const storage = new Storage({ apiEndpoint: "http://127.0.0.1:9", projectId: "demo-sluice", retryOptions: { autoRetry: false } });
    const store = new GcsObjectStore({ storage });
    await expect(store.head("any", "key")).rejects.toBeInstanceOf(StorageError);
  });
});
