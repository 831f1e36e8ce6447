import { randomUUID } from "node:crypto";
import type { Outcome } from "@sluice/core";
import { describeAdapterContract, type ContractInvocation } from "@sluice/core/testing";
import { afterAll, beforeAll } from "vitest";
import { LocalObjectStore, toLocal } from "../src/index.js";
import { tempRoot } from "./helpers.js";

let dir: { root: string; remove: () => Promise<void> };
let store: LocalObjectStore;
const buckets = { source: "contract-raw", output: "contract-out", failures: "contract-failed" };

beforeAll(async () => {
  dir = await tempRoot("contract");
  store = new LocalObjectStore({ root: dir.root });
  for (const bucket of Object.values(buckets)) await store.createBucket(bucket);
});
afterAll(async () => dir.remove());

function fromOutcome(outcome: Outcome): ContractInvocation {
  switch (outcome.status) {
    case "ok":
    case "ignored":
    case "routed":
      return { ok: true };
    case "failed":
      return { ok: false, error: outcome.error };
    case "http": {
      const { status, headers, body } = outcome.response;
      return { ok: status < 500, http: { status, headers, body: typeof body === "string" ? body : new TextDecoder().decode(body) } };
    }
    case "messages":
      return { ok: outcome.failedMessageIds.length === 0, failedMessageIds: outcome.failedMessageIds };
  }
}

const now = () => new Date().toISOString();

describeAdapterContract({
  provider: "local",
  store: () => store,
  buckets,
  async invoke(fn, native) {
    try {
      return fromOutcome(await toLocal(fn, { store, logLevel: "error" }).invoke(native));
    } catch (error) {
      return { ok: false, error };
    }
  },
  native: {
    objectCreated: ({ bucket, key, size, etag }) => ({ kind: "object.created", id: randomUUID(), time: now(), bucket, key, size, etag }),
    objectDeleted: ({ bucket, key }) => ({ kind: "object.deleted", id: randomUUID(), time: now(), bucket, key }),
    http: ({ method, path, query, headers, body }) => ({ kind: "http", method, path, query, headers, body }),
    schedule: () => ({ kind: "schedule", id: randomUUID(), time: now(), schedule: "hourly" }),
    messages(bodies) {
      const ids = bodies.map((_body, index) => `m-${index + 1}`);
      return {
        native: {
          kind: "messages",
          source: "queue",
          name: "contract",
          messages: bodies.map((body, index) => ({ id: ids[index], body, time: now() })),
        },
        ids,
      };
    },
    invoke: (payload) => ({ kind: "invoke", payload }),
  },
  malformed: [
    { name: "a payload that is not an object", event: "readings/a.ndjson" },
    { name: "an unknown kind", event: { kind: "object.moved", bucket: "contract-raw", key: "a" } },
    { name: "an object event without a key", event: { kind: "object.created", bucket: "contract-raw" } },
    { name: "a size given as text", event: { kind: "object.created", bucket: "contract-raw", key: "a", size: "12" } },
    { name: "a time that is no time", event: { kind: "object.created", bucket: "contract-raw", key: "a", time: "yesterday" } },
    { name: "messages that are not an array", event: { kind: "messages", source: "queue", name: "q", messages: {} } },
  ],
});
