import { ConfigurationError } from "./errors.js";
import type { Context } from "./context.js";
import type { Destination, DestinationArgs, FailureReport } from "./destinations.js";
import type { EventOf, Trigger } from "./triggers.js";

/** The plain-data event a destination's key function sees (no body readers). */
export type EventDataOf<E> = E extends { kind: "object.created" | "object.deleted" }
  ? Omit<E, "stream" | "bytes" | "text" | "lines" | "numberedLines">
  : E;

/** Everything that defines a Sluice function. */
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
    if (destination !== undefined && destination?.kind !== "objectStore" && destination?.kind !== "custom") {
      throw new ConfigurationError(`function ${name}: ${field} must come from one of the destinations.* factories`);
    }
  }
  if (definition.timeoutMarginMs !== undefined && !(definition.timeoutMarginMs >= 0)) {
    throw new ConfigurationError(`function ${name}: timeoutMarginMs must be a number >= 0`);
  }
  if (definition.maxAttempts !== undefined && !(Number.isInteger(definition.maxAttempts) && definition.maxAttempts >= 1)) {
    throw new ConfigurationError(`function ${name}: maxAttempts must be an integer >= 1`);
  }
  return Object.freeze({ ...definition, __sluice: "function" as const });
}

/** Whether a value is a function made by {@link defineFunction}. */
export function isSluiceFunction(value: unknown): value is SluiceFunction {
  return typeof value === "object" && value !== null && (value as { __sluice?: unknown }).__sluice === "function";
}
