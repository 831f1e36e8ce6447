import type { AddressInfo } from "node:net";
import { getTestServer } from "@google-cloud/functions-framework/testing";
import { type Message, defineFunction, triggers } from "@sluice/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toCloudFunction } from "../src/index.js";
import { capturingLogger } from "./framework.js";
import { pubsubEmulator, pubsubSkipReason } from "./pubsub-helpers.js";

// The emulator is the Google Cloud CLI's, started once by the global setup; without it this file fails
// (saying what to install) unless SLUICE_ALLOW_MISSING_PUBSUB_EMULATOR=1 lets it skip.
const skip = pubsubSkipReason();

describe.skipIf(skip !== undefined)("a real push from the Pub/Sub emulator to a function registered as http", () => {
  let api = "";
  const functionServer = { close: async () => {}, url: "" };
  const received: Array<{ id: string; text: string; attributes: Record<string, string>; time: string; attempt?: number }> = [];

  beforeAll(async () => {
    const emulator = pubsubEmulator();
    api = `${emulator.url}/v1/projects/${emulator.projectId}`;

    const fn = defineFunction({
      name: "pubsub-emulator-push",
      trigger: triggers.messages({ source: "topic", name: "sensor-batches" }),
      async handler(event) {
        for (const message of event.messages as Message[]) {
          received.push({
            id: message.id,
            text: message.text(),
            attributes: message.attributes,
            time: message.time,
            ...(message.attempt ? { attempt: message.attempt } : {}),
          });
        }
      },
    });
    toCloudFunction(fn, { signature: "http", log: capturingLogger().log });
    const server = getTestServer(fn.name);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    functionServer.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    functionServer.close = () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      });
  }, 60_000);

  afterAll(async () => {
    await functionServer.close();
  });

  it("delivers each published message with the emulator's id, attributes, body and publish time, and acknowledges it", async () => {
    const put = (path: string, body?: unknown) =>
      fetch(`${api}/${path}`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    expect((await put("topics/sensor-batches")).ok).toBe(true);
    expect(
      (
        await put("subscriptions/sensor-batches-push", {
          topic: "projects/demo-sluice/topics/sensor-batches",
          pushConfig: { pushEndpoint: functionServer.url },
        })
      ).ok,
    ).toBe(true);
    const published = await fetch(`${api}/topics/sensor-batches:publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        messages: [
          { data: Buffer.from('{"n":1,"text":"é"}').toString("base64"), attributes: { origin: "emulator" } },
          { data: Buffer.from("plain text").toString("base64") },
        ],
      }),
    });
    const { messageIds } = (await published.json()) as { messageIds: string[] };
    for (let waited = 0; received.length < 2 && waited < 20_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(received.map(({ id, text, attributes }) => ({ id, text, attributes })).sort((a, b) => a.id.localeCompare(b.id))).toEqual(
      [
        { id: messageIds[0], text: '{"n":1,"text":"é"}', attributes: { origin: "emulator" } },
        { id: messageIds[1], text: "plain text", attributes: {} },
      ].sort((a, b) => String(a.id).localeCompare(String(b.id))),
    );
    for (const message of received) expect(message.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    // Acknowledged with 204: nothing is pushed again.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(received).toHaveLength(2);
  });
});
