import type { SluiceFunction, Trigger } from "@sluice/core";
import type { ContractInvocation } from "@sluice/core/testing";
import { GcsObjectStore, toCloudFunction } from "../src/index.js";
import { type Delivery, capturingLogger, deliver } from "./framework.js";
import { emulatorStorage } from "./helpers.js";

let store: GcsObjectStore | undefined;
/** One store on the emulator for a contract run. */
export const contractStore = () => {
  store ??= new GcsObjectStore({ storage: emulatorStorage() });
  return store;
};

export const contractBuckets = { source: "contract-raw", output: "contract-out", failures: "contract-failed" };

let sequence = 0;
/** A fresh numeric id, as Google's are (decimal strings, often past 2^53). */
export const nextId = () => `${17194425001187651n + BigInt(++sequence) * 1000n + BigInt(Date.now() % 1000)}`;

/** The message id a delivery carries, for reporting which message the platform will retry. */
function messageIdOf(delivery: Delivery): string | undefined {
  const json =
    delivery.kind === "cloudevent"
      ? (delivery.event.data as Record<string, any> | undefined)
      : typeof delivery.body === "string"
        ? (JSON.parse(delivery.body) as Record<string, any>)
        : undefined;
  return json?.message?.messageId;
}

/**
 * Registers `fn` through `toCloudFunction`, sends the delivery through the framework's test server and
 * reads the outcome from the HTTP answer, as Eventarc or Pub/Sub would. The error object is the one the
 * adapter logged when it failed the invocation (the framework only sends its message).
 */
export async function invokeThroughFramework(fn: SluiceFunction, native: unknown): Promise<ContractInvocation> {
  const delivery = native as Delivery;
  const trigger = fn.trigger as Trigger;
  const isHttpTrigger = trigger.kind === "http" || trigger.kind === "invoke";
  const signature = !isHttpTrigger && delivery.kind === "request" ? "http" : undefined;
  const { log, errors } = capturingLogger();
  toCloudFunction(fn, { store: contractStore(), log, ...(signature ? { signature } : {}) });
  // HTTP functions are served as in production (NODE_ENV=production), where the framework's own error
  // pages carry no stack trace: see the README's deployment notes.
  const response = await deliver(fn.name, delivery, { production: isHttpTrigger });
  if (isHttpTrigger) {
    const { status, headers, body } = response;
    return { ok: status < 500, http: { status, headers, body } };
  }
  const ok = response.status >= 200 && response.status < 300;
  const result: ContractInvocation = { ok };
  if (!ok) {
    // Only report an error the adapter threw and the framework answered with (its message is the body).
    const error = errors.find(
      (candidate) => candidate instanceof Error && (response.body === candidate.message || response.status === 400),
    );
    if (error !== undefined) result.error = error;
  }
  if (trigger.kind === "messages") {
    const id = messageIdOf(delivery);
    if (response.status === 500 && response.headers["content-type"]?.startsWith("application/json")) {
      result.failedMessageIds = (JSON.parse(response.body) as { failedMessageIds: string[] }).failedMessageIds;
    } else {
      result.failedMessageIds = ok || id === undefined ? [] : [id];
    }
  }
  return result;
}
