import { ConfigurationError } from "./errors.js";
import type { ObjectStore } from "./store.js";

/**
 * Remembers which side effects have happened. Every cloud delivers at least once; outputs written under
 * keys derived from the input are naturally idempotent, but a side effect (an e-mail, a payment, a call
 * to another system) must be claimed first.
 */
export interface IdempotencyStore {
  /** Claims `key`: `true` for the first caller, `false` for every caller after it. */
  claim(key: string): Promise<boolean>;
  /** Gives a claim back, so that a later delivery may try again (used when the effect failed). */
  release(key: string): Promise<void>;
}

/**
 * An idempotency store in an object store, on its conditional write: a claim is an object created only
 * if absent, so two concurrent deliveries cannot both win.
 *
 * @example
 * ```ts
 * const claims = objectStoreIdempotency(store, { bucket: "sensor-state", prefix: "claims/" });
 * await once(claims, `alert/${event.id}`, () => notify(alert));
 * ```
 */
export function objectStoreIdempotency(store: ObjectStore, options: { bucket: string; prefix?: string }): IdempotencyStore {
  const putIfAbsent = store.putIfAbsent?.bind(store);
  if (!putIfAbsent)
    throw new ConfigurationError("this object store has no conditional write (putIfAbsent), which an idempotency store needs");
  const keyOf = (key: string) => `${options.prefix ?? "idempotency/"}${key}`;
  return {
    claim: (key) =>
      putIfAbsent(options.bucket, keyOf(key), JSON.stringify({ claimedAt: new Date().toISOString() }), { contentType: "application/json" }),
    release: (key) => store.delete(options.bucket, keyOf(key)),
  };
}

/**
 * Runs `effect` at most once per `key` across redeliveries and concurrent invocations. If the effect
 * throws, the claim is released so that the platform's retry may run it again; if the process dies
 * between the claim and the end of the effect, the effect is not run again (at most once).
 *
 * @example
 * ```ts
 * const result = await once(claims, `report-mail/${event.key}`, () => mailer.send(report));
 * if (!result.ran) ctx.log.info("already sent");
 * ```
 */
export async function once<T>(
  store: IdempotencyStore,
  key: string,
  effect: () => T | Promise<T>,
): Promise<{ ran: true; value: T } | { ran: false }> {
  if (!(await store.claim(key))) return { ran: false };
  try {
    return { ran: true, value: await effect() };
  } catch (error) {
    await store.release(key);
    throw error;
  }
}
