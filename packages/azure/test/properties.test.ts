import { BlobServiceClient } from "@azure/storage-blob";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { blobLocationFromUrl } from "../src/triggers/blob-url.js";
import { fromEventGrid } from "../src/triggers/event-grid.js";
import { loadFixture } from "./helpers.js";

/** Blob names: any Unicode, with slashes, empty segments, dots, `%`, `+`, `?`, `#` and backslashes mixed in. */
const blobName = fc
  .array(fc.oneof(fc.string({ unit: "grapheme", maxLength: 8 }), fc.constantFrom(".", "..", "%", "%20", "+", "?", "#", "\\", " ", "")), {
    minLength: 1,
    maxLength: 6,
  })
  .map((segments) => segments.join("/"))
  .filter((name) => name.replace(/\//g, "") !== "");
const containerName = fc.stringMatching(/^[a-z0-9]{1,20}(?:-[a-z0-9]{1,20}){0,2}$/).filter((name) => name.length >= 3 && name.length <= 63);
const encodePath = (name: string) => name.split("/").map(encodeURIComponent).join("/");

describe("blob URLs to container and name", () => {
  it("decodes any name Azure percent-encodes, exactly, including dot segments a URL parser would resolve", () => {
    fc.assert(
      fc.property(containerName, blobName, (container, name) => {
        expect(
          blobLocationFromUrl(`https://acct.blob.core.windows.net/${container}/${encodePath(name)}`, "event-grid", "data.url"),
        ).toStrictEqual({
          account: "acct",
          container,
          name,
        });
        expect(
          blobLocationFromUrl(`https://acct.dfs.core.windows.net/${container}/${encodePath(name)}`, "event-grid", "data.url").name,
        ).toBe(name);
        expect(
          blobLocationFromUrl(`http://127.0.0.1:10000/devstoreaccount1/${container}/${encodePath(name)}`, "event-grid", "data.url"),
        ).toStrictEqual({ account: "devstoreaccount1", container, name });
      }),
      { numRuns: 500 },
    );
  });

  it("reads back every name from the URL @azure/storage-blob builds for it (names without dot segments, which the SDK resolves)", () => {
    const cloud = BlobServiceClient.fromConnectionString(
      "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;EndpointSuffix=core.windows.net",
    );
    const emulator = BlobServiceClient.fromConnectionString("UseDevelopmentStorage=true");
    fc.assert(
      fc.property(
        containerName,
        blobName.filter((name) => !name.split("/").some((segment) => segment === "." || segment === "..")),
        (container, name) => {
          for (const client of [cloud, emulator]) {
            const url = client.getContainerClient(container).getBlobClient(name).url;
            expect(blobLocationFromUrl(url, "event-grid", "data.url")).toMatchObject({ container, name });
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("takes the name from the URL whatever the subject says, and strips any ETag quoting", () => {
    const base = loadFixture("eventgrid/blob-created.json").input;
    fc.assert(
      fc.property(blobName, fc.string(), fc.constantFrom("", '"'), (name, subject, quote) => {
        const event = structuredClone(base);
        event.subject = subject;
        event.data.url = `https://sensorstore.blob.core.windows.net/sensor-raw/${encodePath(name)}`;
        event.data.eTag = `${quote}0x8DE0B7A3C4F5D61${quote}`;
        expect(fromEventGrid(event)).toMatchObject([{ bucket: "sensor-raw", key: name, etag: "0x8DE0B7A3C4F5D61" }]);
      }),
    );
  });
});
