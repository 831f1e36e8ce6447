import { randomUUID } from "node:crypto";
import { describeAdapterContract } from "@sluice/core/testing";
import { describe } from "vitest";
import { asLibraryParses } from "./azure-native.js";
import { azureContract } from "./contract-adapter.js";

// Storage Queue: one message an invocation, so a throw redelivers exactly that message.
describe("with Storage Queue messages", () => {
  describeAdapterContract(
    azureContract({
      trigger: { source: "queue", name: "contract" },
      options: {},
      maxBatch: 1,
      build(bodies) {
        const id = randomUUID();
        const body = asLibraryParses(bodies[0] as string);
        return {
          native: {
            input: body,
            triggerMetadata: {
              queueTrigger: body,
              dequeueCount: 1,
              expirationTime: "2026-11-30T14:05:02+00:00",
              id,
              insertionTime: "2026-11-23T14:05:02+00:00",
              nextVisibleTime: "2026-11-23T14:15:03+00:00",
              popReceipt: "AgAAAAMAAAAAAAAA8kHq2Zdd3AE=",
            },
          },
          ids: [id],
        };
      },
      retried: (call, ok) => (ok ? [] : [String((call.triggerMetadata as { id: string }).id)]),
    }),
  );
});

// Event Hubs: batches of four; the host checkpoints whatever happens, so there are no per-message retries
// to report; what a failure does is proven by the property test in adapter.test.ts.
describe("with Event Hubs batches", () => {
  describeAdapterContract(
    azureContract({
      trigger: { source: "stream", name: "contract" },
      options: { connection: "EventHubs" },
      maxBatch: 4,
      build(bodies) {
        const first = 1_000 + Math.floor(Math.random() * 1_000_000);
        const sequences = bodies.map((_body, index) => first + index);
        return {
          native: {
            input: bodies.map(asLibraryParses),
            triggerMetadata: {
              triggerPartitionContext: { eventHubName: "contract", consumerGroup: "$Default", partitionId: "2" },
              partitionContext: { eventHubName: "contract", consumerGroup: "$Default", partitionId: "2" },
              sequenceNumberArray: sequences,
              offsetArray: sequences.map((sequence) => sequence * 100),
              enqueuedTimeUtcArray: sequences.map(() => "2026-11-23T14:05:00.9"),
              propertiesArray: sequences.map(() => ({})),
              systemPropertiesArray: sequences.map((sequence) => ({
                sequenceNumber: sequence,
                offsetString: String(sequence * 100),
                enqueuedTimeUtc: "2026-11-23T14:05:00.9",
              })),
            },
          },
          ids: sequences.map((sequence) => `2:${sequence}`),
        };
      },
      retried: () => undefined,
    }),
  );
});

// Service Bus batches: a throw abandons the whole batch, so the platform's answer names no single message.
describe("with Service Bus batches", () => {
  describeAdapterContract(
    azureContract({
      trigger: { source: "topic", name: "contract" },
      options: { connection: "ServiceBus", cardinality: "many" },
      maxBatch: 4,
      build(bodies) {
        const ids = bodies.map(() => randomUUID());
        return {
          native: {
            input: bodies.map(asLibraryParses),
            triggerMetadata: {
              messageReceiver: {},
              messageActions: {},
              deliveryCountArray: bodies.map(() => 1),
              lockTokenArray: bodies.map(() => randomUUID()),
              enqueuedTimeUtcArray: bodies.map(() => "2026-11-23T14:05:02.715"),
              messageIdArray: ids,
              sequenceNumberArray: bodies.map((_body, index) => 40 + index),
              applicationPropertiesArray: bodies.map(() => ({ producer: "contract" })),
              deadLetterSourceArray: [],
              sessionIdArray: [],
            },
          },
          ids,
        };
      },
      retried: () => undefined,
    }),
  );
});
