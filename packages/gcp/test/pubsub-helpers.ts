import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getTestServer } from "@google-cloud/functions-framework/testing";
import type { ReceivedMessage } from "@sluice/core/testing";
import { inject } from "vitest";
import { PubsubMessaging } from "../src/index.js";

/** Why the Pub/Sub tests skip here (only with SLUICE_ALLOW_MISSING_PUBSUB_EMULATOR=1 and no emulator). */
export function pubsubSkipReason(): string | undefined {
  const info = inject("pubsubEmulator");
  return "skip" in info ? info.skip : undefined;
}

/** The Pub/Sub emulator the global setup started; a missing one fails the test, saying what to install. */
export function pubsubEmulator(): { host: string; url: string; projectId: string } {
  const info = inject("pubsubEmulator");
  if ("error" in info) throw new Error(info.error);
  if ("skip" in info) throw new Error(info.skip);
  return info;
}

/** A sender on the emulator, through the real client library (`apiEndpoint` puts it in emulator mode). */
export function emulatorMessaging(): PubsubMessaging {
  const { host, projectId } = pubsubEmulator();
  return new PubsubMessaging({ projectId, clientConfig: { apiEndpoint: host } });
}

/** A topic id no other test uses (ids need at least 3 characters). */
export const uniqueName = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** The emulator's REST API (the same API Pub/Sub serves), for setting up topics and subscriptions. */
export async function pubsubRest(path: string, method: "GET" | "PUT" | "POST" | "DELETE", body?: unknown): Promise<any> {
  const { url, projectId } = pubsubEmulator();
  const response = await fetch(`${url}/v1/projects/${projectId}/${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`Pub/Sub emulator ${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

export async function createTopic(topic: string): Promise<void> {
  await pubsubRest(`topics/${topic}`, "PUT");
}

export async function createSubscription(topic: string, subscription: string, options: Record<string, unknown> = {}): Promise<void> {
  const { projectId } = pubsubEmulator();
  await pubsubRest(`subscriptions/${subscription}`, "PUT", { topic: `projects/${projectId}/topics/${topic}`, ...options });
}

/** A message as a pull subscription returns it, fields as the emulator sends them. */
export interface PulledMessage {
  ackId: string;
  message: { data?: string; attributes?: Record<string, string>; messageId: string; publishTime?: string; orderingKey?: string };
}

/**
 * Pulls (and acknowledges) until at least `count` messages have arrived or `timeoutMs` passes, and
 * returns every message pulled so far, in the order the subscription delivered them.
 */
export function puller(subscription: string, timeoutMs = 20_000) {
  const pulled: PulledMessage[] = [];
  return {
    pulled,
    async pull(count: number): Promise<PulledMessage[]> {
      const started = Date.now();
      while (pulled.length < count && Date.now() - started < timeoutMs) {
        const { receivedMessages = [] } = (await pubsubRest(`subscriptions/${subscription}:pull`, "POST", {
          maxMessages: 1000,
          returnImmediately: true,
        })) as { receivedMessages?: PulledMessage[] };
        if (receivedMessages.length === 0) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        pulled.push(...receivedMessages);
        await pubsubRest(`subscriptions/${subscription}:acknowledge`, "POST", { ackIds: receivedMessages.map((item) => item.ackId) });
      }
      return pulled;
    },
  };
}

/** A pulled message as the sender suite compares it. */
export function asReceived({ message }: PulledMessage): ReceivedMessage {
  const received: ReceivedMessage = {
    body: new Uint8Array(Buffer.from(message.data ?? "", "base64")),
    attributes: message.attributes ?? {},
  };
  if (message.orderingKey) received.key = message.orderingKey;
  return received;
}

/** Serves a registered function with the Functions Framework's own test server on 127.0.0.1, for push subscriptions. */
export async function serve(name: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = getTestServer(name);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Polls until `check` holds or `timeoutMs` passes; the caller's assertions say what was expected. */
export async function waitFor(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  for (const started = Date.now(); !check() && Date.now() - started < timeoutMs; ) await new Promise((resolve) => setTimeout(resolve, 50));
}
