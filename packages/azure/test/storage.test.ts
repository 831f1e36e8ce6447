import { BlobServiceClient } from "@azure/storage-blob";
import { ConfigurationError, ObjectNotFoundError, StorageError } from "@sluice/core";
import { describeObjectStore } from "@sluice/core/testing";
import fc from "fast-check";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { BlobObjectStore } from "../src/index.js";
import { decodeMetadataName, encodeMetadataName } from "../src/storage.js";

const connectionString = inject("azuriteConnectionString");
const client = BlobServiceClient.fromConnectionString(connectionString);

beforeAll(async () => {
  await client.getContainerClient("store-suite").createIfNotExists();
});

describeObjectStore("Blob storage on Azurite", () => ({
  store: new BlobObjectStore({ blobServiceClient: client }),
  bucket: "store-suite",
}));

describe("BlobObjectStore", () => {
  it("builds its client from the connection setting on first use, not before", async () => {
    const env: Record<string, string | undefined> = {};
    const store = new BlobObjectStore({ connection: "SENSOR_STORAGE", env });
    await expect(store.head("store-suite", "x")).rejects.toBeInstanceOf(ConfigurationError);
    env.SENSOR_STORAGE = connectionString;
    await store.put("store-suite", "from-setting/a.txt", "a");
    expect((await store.head("store-suite", "from-setting/a.txt"))?.size).toBe(1);
  });

  it("reads an identity-based connection as the Functions host does, with a token credential", async () => {
    const byUri = await new BlobObjectStore({
      connection: "SensorStorage",
      env: { SensorStorage__blobServiceUri: "https://sensorstore.blob.core.windows.net" },
    }).client();
    expect(byUri.url).toBe("https://sensorstore.blob.core.windows.net/");
    expect(byUri.credential.constructor.name).toBe("DefaultAzureCredential");
    const byName = await new BlobObjectStore({
      env: {
        AzureWebJobsStorage__accountName: "sensorstore",
        AzureWebJobsStorage__credential: "managedidentity",
        AzureWebJobsStorage__clientId: "id-1",
      },
    }).client();
    expect(byName.url).toBe("https://sensorstore.blob.core.windows.net/");
    expect(byName.credential.constructor.name).toBe("ManagedIdentityCredential");
    await expect(new BlobObjectStore({ env: {} }).client()).rejects.toBeInstanceOf(ConfigurationError);
    const named = await new BlobObjectStore({
      env: {
        SLUICE_STORAGE_CONNECTION: "SensorStorage",
        SensorStorage__blobServiceUri: "https://data.blob.core.windows.net",
        AzureWebJobsStorage: "UseDevelopmentStorage=true",
      },
    }).client();
    expect(named.url).toBe("https://data.blob.core.windows.net/");
  });

  it("returns the etag without quotes from put, head and list alike", async () => {
    const store = new BlobObjectStore({ blobServiceClient: client });
    const { etag } = await store.put("store-suite", "etag/a.txt", "abc");
    const raw = await client.getContainerClient("store-suite").getBlobClient("etag/a.txt").getProperties();
    expect(raw.etag).toBe(`"${etag}"`);
    const listed = [];
    for await (const info of store.list("store-suite", { prefix: "etag/" })) listed.push(info.etag);
    expect(listed).toEqual([etag]);
  });

  it("reports a missing container as ObjectNotFoundError on get and a StorageError on put", async () => {
    const store = new BlobObjectStore({ blobServiceClient: client });
    await expect(store.get("no-such-container", "a")).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(store.put("no-such-container", "a", "x")).rejects.toBeInstanceOf(StorageError);
  });

  it("encodes any metadata name reversibly into a C# identifier", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20, unit: "grapheme" }), (name) => {
        const encoded = encodeMetadataName(name);
        expect(encoded).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
        expect(decodeMetadataName(encoded)).toBe(name.toLowerCase());
      }),
    );
  });
});
