import { readFileSync } from "node:fs";
import { join } from "node:path";
import { InvocationContext } from "@azure/functions";
import { defineFunction, SluiceError, type SluiceFunction, silentLogger, triggers } from "@sluice/core";
import { mutatedEvents } from "@sluice/core/testing";
import { describe, expect, it } from "vitest";
import { BlobObjectStore, toAzureFunction } from "../src/index.js";
import { callsOf, fixturesRoot, jsonFilesUnder } from "./helpers.js";

/** Every recorded call, as plain JSON (Buffers stay in their JSON form: one more odd shape for the fuzzer). */
const seeds = jsonFilesUnder(fixturesRoot)
  .filter((path) => !path.startsWith("http/") && !path.startsWith("_"))
  .flatMap((path) => callsOf(JSON.parse(readFileSync(join(fixturesRoot, path), "utf8"))))
  .map(({ input, triggerMetadata }) => ({ input, triggerMetadata }));

const functions: SluiceFunction[] = [
  defineFunction({ name: "f-object", trigger: triggers.objectCreated({ bucket: "sensor-raw" }), handler: async () => undefined }),
  defineFunction({ name: "f-deleted", trigger: triggers.objectDeleted({ bucket: "sensor-raw" }), handler: async () => undefined }),
  defineFunction({ name: "f-schedule", trigger: triggers.schedule({ cron: "0 * * * *" }), handler: async () => undefined }),
  defineFunction({ name: "f-queue", trigger: triggers.messages({ source: "queue", name: "q" }), handler: async () => undefined }),
  defineFunction({ name: "f-stream", trigger: triggers.messages({ source: "stream", name: "s" }), handler: async () => undefined }),
];

describe("fuzzing the Azure adapter", () => {
  const count = 10_000;
  it(`lets only Sluice's typed errors out, for ${count} mutated invocations on every kind of function`, async () => {
    // A store that is never reached: none of these handlers reads a body or writes an output.
    const store = new BlobObjectStore({ env: {} });
    const handlers = functions.map((fn) => toAzureFunction(fn, { register: false, store, connection: "X", log: silentLogger }));
    let resolved = 0;
    let rejected = 0;
    for (const mutated of mutatedEvents(seeds, count, 20261123)) {
      const call = mutated as { input?: unknown; triggerMetadata?: unknown } | null;
      const isCall = typeof call === "object" && call !== null && !Array.isArray(call) && "input" in call;
      const input = isCall ? call.input : mutated;
      const triggerMetadata =
        isCall && typeof call.triggerMetadata === "object" ? (call.triggerMetadata as Record<string, unknown>) : undefined;
      for (const handler of handlers) {
        try {
          await handler(input, new InvocationContext({ invocationId: "fuzz", functionName: "fuzz", triggerMetadata }));
          resolved++;
        } catch (error) {
          if (!(error instanceof SluiceError)) {
            throw new Error(`untyped error for ${JSON.stringify(mutated)?.slice(0, 400)}`, { cause: error });
          }
          rejected++;
        }
      }
    }
    expect(resolved).toBeGreaterThan(count / 10);
    expect(rejected).toBeGreaterThan(count / 10);
  });
});
