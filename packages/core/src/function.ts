import { ConfigurationError } from "./errors.js";
import type { Context } from "./context.js";
import type { Destination, DestinationArgs, FailureReport, MessageDestination } from "./destinations.js";
import type { EventOf, Trigger } from "./triggers.js";

/** The plain-data event a destination's key function sees (no body readers). */
export type EventDataOf<E> = E extends { kind: "object.created" | "object.deleted" }
  ? Omit<E, "stream" | "bytes" | "text" | "lines" | "numberedLines">
  : E;

/** Everything that defines a Sluice function. */
const DESTINATION_KINDS = new Set(["objectStore", "custom", "stream", "queue"]);

export interface FunctionDefinition<T extends Trigger, R> {
  /** Letters, digits, `-` and `_`, starting with a letter; at most 63 characters (every cloud accepts that). */
  name: string;
  trigger: T;
  // Method syntax on purpose: it lets any defined function be passed where `SluiceFunction` is expected.
  handler(event: EventOf<T>, ctx: Context): R | Promise<R>;
  /** Where the handler's result goes. */
  destination?: Destination<DestinationArgs<EventDataOf<EventOf<T>>, Awaited<R>>>;
  /** Where failures go: a handler error, a quarantined record, a message past its attempts. Never dropped. */
  onFailure?: Destination<FailureReport<EventDataOf<EventOf<T>>>>;
  /** The handler's `ctx.signal` aborts this long before the platform's deadline. Default 500 ms. */
  timeoutMarginMs?: number;
  /**
   * For message triggers: after this many delivery attempts a failing message goes to `onFailure`
   * instead of back to the platform for another retry. Default: retry as long as the platform does.
   */
  maxAttempts?: number;
  /**
   * Allow a destination that writes where the function's own trigger watches. Without it,
   * `defineFunction` refuses such a definition, since every output would trigger the function again.
   */
  allowRecursion?: boolean;
  /**
   * Outputs carry a hop count (`sluice-hops` metadata): one more than their input's. An input whose count
   * has reached this limit is not processed again: the function reports it to `onFailure` instead of
   * writing. Default 8.
   */
  maxHops?: number;
}

/** A defined function: what `toLambda`, `toCloudFunction`, `toAzureFunction` and `toLocal` take. */
export interface SluiceFunction<T extends Trigger = Trigger, R = unknown> extends Readonly<FunctionDefinition<T, R>> {
  readonly __sluice: "function";
}

const FUNCTION_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

/**
 * Defines a function once, for every provider.
 *
 * @example
 * ```ts
 * export const analyzeSensors = defineFunction({
 *   name: "analyze-sensors",
 *   trigger: triggers.objectCreated({ bucket: "sensor-raw", prefix: "readings/" }),
 *   destination: destinations.objectStore({ bucket: "sensor-reports", key: ({ event }) => `reports/${event.key}.json` }),
 *   async handler(event, ctx) {
 *     let lines = 0;
 *     for await (const _line of event.lines()) lines++;
 *     return { key: event.key, lines };
 *   },
 * });
 * ```
 */
export function defineFunction<T extends Trigger, R>(definition: FunctionDefinition<T, R>): SluiceFunction<T, R> {
  if (definition === null || typeof definition !== "object") throw new ConfigurationError("defineFunction needs a definition object");
  const { name, trigger, handler } = definition;
  if (typeof name !== "string" || !FUNCTION_NAME.test(name)) {
    throw new ConfigurationError(
      `function name ${JSON.stringify(name)} must start with a letter and hold only letters, digits, '-' and '_' (at most 63)`,
    );
  }
  if (trigger === null || typeof trigger !== "object" || typeof (trigger as { kind?: unknown }).kind !== "string") {
    throw new ConfigurationError(`function ${name}: trigger must come from one of the triggers.* factories`);
  }
  if (typeof handler !== "function") throw new ConfigurationError(`function ${name}: handler must be a function`);
  for (const field of ["destination", "onFailure"] as const) {
    const destination = definition[field] as { kind?: unknown } | undefined;
    if (destination !== undefined && !DESTINATION_KINDS.has(destination?.kind as string)) {
      throw new ConfigurationError(`function ${name}: ${field} must come from one of the destinations.* factories`);
    }
  }
  if (definition.timeoutMarginMs !== undefined && !(definition.timeoutMarginMs >= 0)) {
    throw new ConfigurationError(`function ${name}: timeoutMarginMs must be a number >= 0`);
  }
  if (definition.maxAttempts !== undefined && !(Number.isInteger(definition.maxAttempts) && definition.maxAttempts >= 1)) {
    throw new ConfigurationError(`function ${name}: maxAttempts must be an integer >= 1`);
  }
  if (definition.maxHops !== undefined && !(Number.isInteger(definition.maxHops) && definition.maxHops >= 1)) {
    throw new ConfigurationError(`function ${name}: maxHops must be an integer >= 1`);
  }
  if (!definition.allowRecursion)
    refuseRecursion(name, trigger as Trigger, definition.destination as Destination | undefined, "destination");
  if (!definition.allowRecursion) refuseRecursion(name, trigger as Trigger, definition.onFailure as Destination | undefined, "onFailure");
  return Object.freeze({ ...definition, __sluice: "function" as const });
}

/**
 * Refuses a destination that writes into the bucket and prefix its own trigger watches. The key is a
 * function, so it is tried on a sample event inside the trigger's filter: if the key it gives would match
 * the filter too, every output would start the function again. A key function that cannot run on the
 * sample (it needs the real result) is given the benefit of the doubt; the hop count still stops a loop
 * at run time.
 */
function refuseRecursion(name: string, trigger: Trigger, destination: Destination | undefined, role: string): void {
  if ((destination?.kind === "stream" || destination?.kind === "queue") && sendsTo(destination, trigger)) {
    throw new ConfigurationError(
      `function ${name}: its ${role} sends to ${destination.kind} ${destination.name}, which its own trigger reads, so each output would run it again. ` +
        "Send elsewhere, or set allowRecursion: true if the handler stops the loop itself.",
    );
  }
  if (destination?.kind !== "objectStore" || trigger.kind !== "object.created") return;
  if (destination.bucket !== trigger.bucket) return;
  const sampleKey = `${trigger.prefix ?? ""}sluice-recursion-probe${trigger.suffix ?? ""}`;
  const event = {
    kind: "object.created",
    id: "probe",
    time: new Date(0).toISOString(),
    bucket: trigger.bucket,
    key: sampleKey,
    provider: "local",
  };
  let key: unknown;
  try {
    key = destination.key({ event, result: {}, failures: [] });
  } catch {
    return;
  }
  if (typeof key !== "string") return;
  const inside = key.startsWith(trigger.prefix ?? "") && key.endsWith(trigger.suffix ?? "");
  if (inside) {
    throw new ConfigurationError(
      `function ${name}: its ${role} writes to ${destination.bucket}/${key}, which its own trigger watches, so each output would run it again. ` +
        "Write elsewhere (another bucket or prefix), or set allowRecursion: true if the handler stops the loop itself.",
    );
  }
}

/**
 * Whether a stream or queue destination delivers to a messages trigger: the same name, and a source that
 * can carry it (a topic carries both, as Pub/Sub does on GCP).
 */
export function sendsTo(destination: MessageDestination, trigger: Trigger): boolean {
  return (
    trigger.kind === "messages" && trigger.name === destination.name && (trigger.source === destination.kind || trigger.source === "topic")
  );
}

/**
 * Whether a value is a function made by {@link defineFunction}.
 *
 * @example
 * ```ts
 * const functions = Object.values(await import("./entry.js")).filter(isSluiceFunction);
 * ```
 */
export function isSluiceFunction(value: unknown): value is SluiceFunction {
  return typeof value === "object" && value !== null && (value as { __sluice?: unknown }).__sluice === "function";
}
