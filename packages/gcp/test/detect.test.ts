import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DETECTION_RULES, type GcpDelivery, type GcpSource, detectSource } from "../src/detect.js";
import { fixture, jsonFilesUnder, requestFixture } from "./helpers.js";

const ce = (source: string, variant: string): GcpDelivery => ({ signature: "cloudEvent", event: fixture(source, variant) });
const pushOf = (json: unknown): GcpDelivery => ({
  signature: "http",
  request: {
    method: "POST",
    path: "/",
    search: "",
    headers: { "content-type": "application/json" },
    body: new TextEncoder().encode(JSON.stringify(json)),
  },
  json,
});
const requestOf = (source: string, variant: string): GcpDelivery => ({ signature: "http", request: requestFixture(source, variant) });

/** Each source's own fixtures, in the form the adapter receives them (after the framework's conversions). */
const OWN: Record<GcpSource, Array<[string, GcpDelivery]>> = {
  "storage-cloudevent": [
    ...["finalized", "finalized-numeric-fields", "finalized-unicode-name", "deleted", "archived", "metadata-updated"].map(
      (variant) => [`storage-cloudevent/${variant}`, ce("storage-cloudevent", variant)] as [string, GcpDelivery],
    ),
    ...[
      "storage-finalized-binary",
      "storage-finalized-structured",
      "storage-numeric-fields-binary",
      "storage-unicode-binary-percent-encoded-subject",
    ].map((variant) => [`framework-observed/${variant}`, ce("framework-observed", variant)] as [string, GcpDelivery]),
    // A converted 1st gen finalize has no resourceState: it is indistinguishable from, and means the same as, Eventarc's.
    ["framework-observed/legacy-storage-finalize-context", ce("framework-observed", "legacy-storage-finalize-context")],
    ["framework-observed/legacy-storage-finalize-flat", ce("framework-observed", "legacy-storage-finalize-flat")],
  ],
  "storage-legacy": [
    ["framework-observed/legacy-storage-object-change-not-exists", ce("framework-observed", "legacy-storage-object-change-not-exists")],
    ["framework-observed/legacy-storage-object-change-exists", ce("framework-observed", "legacy-storage-object-change-exists")],
  ],
  "storage-pubsub": [
    ["storage-pubsub/finalize-cloudevent", ce("storage-pubsub", "finalize-cloudevent")],
    ["storage-pubsub/delete-cloudevent", ce("storage-pubsub", "delete-cloudevent")],
    ["storage-pubsub/finalize-push (http)", pushOf(fixture("storage-pubsub", "finalize-push"))],
    ["framework-observed/raw-push-storage-notification", ce("framework-observed", "raw-push-storage-notification")],
    ["framework-observed/storage-notification-cloudevent-binary", ce("framework-observed", "storage-notification-cloudevent-binary")],
  ],
  scheduler: [
    ["scheduler/pubsub-target", ce("scheduler", "pubsub-target")],
    ["scheduler/http-target (http)", requestOf("scheduler", "http-target")],
    ["framework-observed/scheduler-pubsub-target-structured", ce("framework-observed", "scheduler-pubsub-target-structured")],
  ],
  "pubsub-cloudevent": [
    ...["message-published", "big-message-id", "emulator-no-publish-time"].map(
      (variant) => [`pubsub-cloudevent/${variant}`, ce("pubsub-cloudevent", variant)] as [string, GcpDelivery],
    ),
    ...[
      "pubsub-message-published-binary",
      "pubsub-big-message-id-structured",
      "pubsub-emulator-no-publish-time-structured",
      "legacy-pubsub-topic-publish",
      "legacy-pubsub-topic-publish-null-attributes",
      "raw-push-root-path",
      "raw-push-topic-path",
      "raw-push-delivery-attempt",
      "raw-push-emulator-no-publish-time",
    ].map((variant) => [`framework-observed/${variant}`, ce("framework-observed", variant)] as [string, GcpDelivery]),
  ],
  "pubsub-push": ["push", "push-with-delivery-attempt", "emulator-push-no-publish-time"].map(
    (variant) => [`pubsub-push/${variant} (http)`, pushOf(fixture("pubsub-push", variant))] as [string, GcpDelivery],
  ),
};

/** Inputs that are no source: each rule must reject them. */
const FOREIGN: Array<[string, GcpDelivery]> = [
  ["http/post-json (http)", requestOf("http", "post-json")],
  ["http/get-query (http)", requestOf("http", "get-query")],
  ["framework-observed/not-a-cloudevent", ce("framework-observed", "not-a-cloudevent")],
  ["framework-observed/binary-missing-ce-id", ce("framework-observed", "binary-missing-ce-id")],
  // Raw 1st gen bodies never reach a function: the framework converts them first (see the converted forms above).
  ...["finalize-context", "finalize-flat", "object-change-exists", "object-change-not-exists"].map(
    (variant) => [`storage-legacy/${variant} (unconverted)`, ce("storage-legacy", variant)] as [string, GcpDelivery],
  ),
  ...["topic-publish", "topic-publish-null-attributes"].map(
    (variant) => [`pubsub-legacy/${variant} (unconverted)`, ce("pubsub-legacy", variant)] as [string, GcpDelivery],
  ),
  ...(["aws", "azure"] as const).flatMap((cloud) =>
    jsonFilesUnder(fileURLToPath(new URL(`../../${cloud}/test/fixtures/`, import.meta.url))).flatMap(
      ({ name, json }) =>
        [
          [`${cloud}/${name} as a CloudEvent`, { signature: "cloudEvent", event: json }],
          [`${cloud}/${name} POSTed to an http function`, pushOf(json)],
        ] as Array<[string, GcpDelivery]>,
    ),
  ),
];

describe("detection matrix", () => {
  it("has foreign fixtures from both other clouds to reject", () => {
    expect(FOREIGN.filter(([name]) => name.startsWith("aws/")).length).toBeGreaterThan(20);
    expect(FOREIGN.filter(([name]) => name.startsWith("azure/")).length).toBeGreaterThan(10);
  });

  for (const rule of DETECTION_RULES) {
    describe(rule.source, () => {
      for (const [source, deliveries] of Object.entries(OWN)) {
        for (const [name, delivery] of deliveries) {
          const expected = source === rule.source;
          it(`${expected ? "accepts" : "rejects"} ${name}`, () => expect(rule.matches(delivery)).toBe(expected));
        }
      }
      it("rejects every HTTP request, non-event, unconverted legacy body and AWS and Azure fixture", () => {
        const accepted = FOREIGN.filter(([, delivery]) => rule.matches(delivery)).map(([name]) => name);
        expect(accepted).toEqual([]);
      });
    });
  }

  it("detectSource names each fixture's own source and nothing for the rest", () => {
    for (const [source, deliveries] of Object.entries(OWN)) {
      for (const [name, delivery] of deliveries) expect([name, detectSource(delivery)]).toEqual([name, source]);
    }
    for (const [name, delivery] of FOREIGN) expect([name, detectSource(delivery)]).toEqual([name, undefined]);
  });
});
