import { BlobServiceClient } from "@azure/storage-blob";
import { type SluiceFunction, silentLogger } from "@sluice/core";
import type { ContractAdapter, ContractMessages } from "@sluice/core/testing";
import { beforeAll, inject } from "vitest";
import type { AzureOptions } from "../src/index.js";
import { BlobObjectStore, toAzureFunction } from "../src/index.js";
import { blobUrl, callHandler, eventGridBlobEvent, HttpRequest, type NativeCall, platformAnswer } from "./azure-native.js";
import { loadFixture } from "./helpers.js";

const client = BlobServiceClient.fromConnectionString(inject("azuriteConnectionString"));
const store = new BlobObjectStore({ blobServiceClient: client });
const buckets = { source: "contract-raw", output: "contract-out", failures: "contract-failed" };

beforeAll(async () => {
  for (const bucket of Object.values(buckets)) await client.getContainerClient(bucket).createIfNotExists();
});

/** How one Azure message service is driven by the contract suite. */
export interface MessagesUnderContract {
  trigger: { source: "queue" | "topic" | "stream"; name: string };
  options: AzureOptions;
  maxBatch: number;
  build(bodies: string[]): ContractMessages;
  /** The ids the platform delivers again, read from its answer; `undefined` where it has no per-message answer. */
  retried(call: NativeCall, ok: boolean): string[] | undefined;
}

/** The Azure adapter as the contract suite sees it, with one message service. */
export function azureContract(messages: MessagesUnderContract): ContractAdapter {
  return {
    provider: "azure",
    store: () => store,
    buckets,
    async invoke(fn: SluiceFunction, native) {
      const call = native as NativeCall;
      const isMessages = fn.trigger.kind === "messages";
      const handler = toAzureFunction(fn, { store, log: silentLogger, ...(isMessages ? messages.options : {}) });
      const http = fn.trigger.kind === "http" || fn.trigger.kind === "invoke";
      const answer = await platformAnswer(() => callHandler(handler, call, fn.name), http);
      if (!isMessages) return answer;
      const retried = messages.retried(call, answer.ok);
      return retried === undefined ? answer : { ...answer, failedMessageIds: retried };
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
      messages: (bodies) => messages.build(bodies),
      invoke: (payload) => ({
        input: new HttpRequest({
          method: "POST",
          url: "https://sluice-contract.azurewebsites.net/api/invoke/contract-invoke",
          headers: { "content-type": "application/json" },
          body: { string: JSON.stringify(payload) },
        }),
      }),
    },
    maxBatch: messages.maxBatch,
    messagesTrigger: messages.trigger,
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
  };
}
