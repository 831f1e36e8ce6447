import { randomUUID } from "node:crypto";
import { BlobServiceClient } from "@azure/storage-blob";
import { type SluiceFunction, silentLogger } from "@sluice/core";
import { describeAdapterContract } from "@sluice/core/testing";
import { beforeAll, inject } from "vitest";
import { BlobObjectStore, toAzureFunction } from "../src/index.js";
import { asLibraryParses, blobUrl, callHandler, eventGridBlobEvent, HttpRequest, type NativeCall, platformAnswer } from "./azure-native.js";
import { loadFixture } from "./helpers.js";

const client = BlobServiceClient.fromConnectionString(inject("azuriteConnectionString"));
const store = new BlobObjectStore({ blobServiceClient: client });
const buckets = { source: "contract-raw", output: "contract-out", failures: "contract-failed" };

beforeAll(async () => {
  for (const bucket of Object.values(buckets)) await client.getContainerClient(bucket).createIfNotExists();
});

describeAdapterContract({
  provider: "azure",
  store: () => store,
  buckets,
  async invoke(fn: SluiceFunction, native) {
    const call = native as NativeCall;
    const handler = toAzureFunction(fn, { store, log: silentLogger });
    const http = fn.trigger.kind === "http" || fn.trigger.kind === "invoke";
    const answer = await platformAnswer(() => callHandler(handler, call, fn.name), http);
    if (fn.trigger.kind === "messages") {
      // A Storage Queue invocation carries one message; a throw makes the queue deliver exactly that one again.
      const id = String((call.triggerMetadata as { id: string }).id);
      return { ...answer, failedMessageIds: answer.ok ? [] : [id] };
    }
    return answer;
  },
  native: {
    objectCreated: ({ bucket, key, size, etag }) =>
      eventGridBlobEvent("Microsoft.Storage.BlobCreated", {
        url: blobUrl("sluicecontract", bucket, key),
        container: bucket,
        name: key,
        size,
        etag,
      }),
    objectDeleted: ({ bucket, key }) =>
      eventGridBlobEvent("Microsoft.Storage.BlobDeleted", { url: blobUrl("sluicecontract", bucket, key), container: bucket, name: key }),
    http: ({ method, path, query, headers, body }) => {
      const search = new URLSearchParams(
        Object.entries(query).flatMap(([name, values]) => values.map((value): [string, string] => [name, value])),
      );
      const url = `https://sluice-contract.azurewebsites.net/api${path}${search.size > 0 ? `?${search}` : ""}`;
      return { input: new HttpRequest({ method, url, headers, body: body === undefined ? undefined : { string: body } }) };
    },
    schedule: () => ({ input: loadFixture("timer/timer.json").input }),
    messages(bodies) {
      const id = randomUUID();
      return {
        native: {
          input: asLibraryParses(bodies[0] as string),
          triggerMetadata: {
            queueTrigger: asLibraryParses(bodies[0] as string),
            dequeueCount: 1,
            expirationTime: "2026-11-30T14:05:02+00:00",
            id,
            insertionTime: "2026-11-23T14:05:02+00:00",
            nextVisibleTime: "2026-11-23T14:15:03+00:00",
            popReceipt: "AgAAAAMAAAAAAAAA8kHq2Zdd3AE=",
          },
        } satisfies NativeCall,
        ids: [id],
      };
    },
    invoke: (payload) => ({
      input: new HttpRequest({
        method: "POST",
        url: "https://sluice-contract.azurewebsites.net/api/invoke/contract-invoke",
        headers: { "content-type": "application/json" },
        body: { string: JSON.stringify(payload) },
      }),
    }),
  },
  maxBatch: 1,
  messagesTrigger: { source: "queue", name: "contract" },
  malformed: [
    { name: "a string that is no event", event: { input: "readings/a.ndjson" } },
    { name: "no input at all", event: { input: null } },
    {
      name: "an Event Grid event without data.url",
      event: (() => {
        const call = eventGridBlobEvent("Microsoft.Storage.BlobCreated", { url: "", container: "contract-raw", name: "a" });
        delete (call.input as { data: { url?: string } }).data.url;
        return call;
      })(),
    },
    {
      name: "a blob URL with broken percent-encoding",
      event: eventGridBlobEvent("Microsoft.Storage.BlobCreated", {
        url: "https://a.blob.core.windows.net/contract-raw/%E0%A4%A",
        container: "c",
        name: "n",
      }),
    },
    {
      name: "a CloudEvent whose time is no time",
      event: { input: { ...loadFixture("eventgrid-cloudevents/blob-created.json").input, time: "soon" } },
    },
    {
      name: "an Event Grid event from another service",
      event: { input: { ...loadFixture("eventgrid/blob-created.json").input, eventType: "Microsoft.Web.AppUpdated" } },
    },
    {
      name: "blob trigger metadata without a container",
      event: { input: Buffer.from("x"), triggerMetadata: { blobTrigger: "no-container" } },
    },
    { name: "a timer payload", event: { input: loadFixture("timer/timer.json").input } },
    { name: "an HTTP request", event: { input: new HttpRequest({ method: "GET", url: "https://x.azurewebsites.net/api/x" }) } },
  ],
});
