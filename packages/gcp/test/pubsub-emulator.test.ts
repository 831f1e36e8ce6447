import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { getTestServer } from "@google-cloud/functions-framework/testing";
import { type Message, defineFunction, triggers } from "@sluice/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toCloudFunction } from "../src/index.js";
import { capturingLogger } from "./framework.js";

/** The Pub/Sub emulator ships with the Google Cloud CLI (and needs Java); a machine without them skips this file. */
function emulatorBinary(): string | undefined {
  try {
    const root = execFileSync("gcloud", ["info", "--format=value(installation.sdk_root)"], { encoding: "utf8", timeout: 20_000 }).trim();
    const binary = join(root, "platform", "pubsub-emulator", "bin", "cloud-pubsub-emulator");
    return existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

const binary = emulatorBinary();

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.skipIf(binary === undefined)("a real push from the Pub/Sub emulator to a function registered as http", () => {
  let emulator: ChildProcess;
  let api = "";
  const functionServer = { close: async () => {}, url: "" };
  const received: Array<{ id: string; text: string; attributes: Record<string, string>; time: string; attempt?: number }> = [];

  beforeAll(async () => {
    const port = await freePort();
    // The script execs java, so this pid is the emulator's own.
    emulator = spawn(binary as string, ["--host=127.0.0.1", `--port=${port}`], { stdio: "ignore" });
    api = `http://127.0.0.1:${port}/v1/projects/demo-sluice`;
    for (let attempt = 0; ; attempt++) {
      if (
        await fetch(`http://127.0.0.1:${port}/`).then(
          () => true,
          () => false,
        )
      )
        break;
      if (attempt > 120) throw new Error("the Pub/Sub emulator did not start");
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

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
    emulator?.kill();
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
