import { ConfigurationError } from "./errors.js";
import type { HttpEvent, InvokeEvent, MessagesEvent, ObjectCreatedEvent, ObjectDeletedEvent, ScheduleEvent } from "./events.js";

/** Which objects an object trigger watches. Filters hold at run time on every provider. */
export interface ObjectTriggerOptions {
  bucket: string;
  prefix?: string;
  suffix?: string;
}

export interface ObjectCreatedTrigger extends Readonly<ObjectTriggerOptions> {
  readonly kind: "object.created";
}

export interface ObjectDeletedTrigger extends Readonly<ObjectTriggerOptions> {
  readonly kind: "object.deleted";
}

export interface HttpTriggerOptions {
  /** A path the function answers, e.g. `/items/{id}`; omitted, every path. */
  path?: string;
  /** Upper-case methods; omitted, every method. */
  methods?: readonly string[];
}

export interface HttpTrigger extends Readonly<HttpTriggerOptions> {
  readonly kind: "http";
}

export interface ScheduleTriggerOptions {
  /** Five-field cron: minute hour day-of-month month day-of-week. */
  cron: string;
  /** IANA time zone the cron is read in; UTC when omitted. */
  timeZone?: string;
}

export interface ScheduleTrigger extends Readonly<ScheduleTriggerOptions> {
  readonly kind: "schedule";
}

export interface MessagesTriggerOptions {
  source: "queue" | "topic" | "stream";
  name: string;
}

export interface MessagesTrigger extends Readonly<MessagesTriggerOptions> {
  readonly kind: "messages";
}

export interface InvokeTrigger<TPayload = unknown> {
  readonly kind: "invoke";
  /** Phantom: carries the payload type to the handler. */
  readonly __payload?: TPayload;
}

/** What starts a function. */
export type Trigger =
  | ObjectCreatedTrigger
  | ObjectDeletedTrigger
  | HttpTrigger
  | ScheduleTrigger
  | MessagesTrigger
  | InvokeTrigger<unknown>;

/** The event a handler receives for a given trigger, decided at compile time. */
export type EventOf<T extends Trigger> = T extends ObjectCreatedTrigger
  ? ObjectCreatedEvent
  : T extends ObjectDeletedTrigger
    ? ObjectDeletedEvent
    : T extends HttpTrigger
      ? HttpEvent
      : T extends ScheduleTrigger
        ? ScheduleEvent
        : T extends MessagesTrigger
          ? MessagesEvent
          : T extends InvokeTrigger<infer P>
            ? InvokeEvent<P>
            : never;

const CRON_FIELD = /^[\d*?/,\-A-Za-z#LW]+$/;

function requireName(value: unknown, what: string): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new ConfigurationError(`${what} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return value;
}

function objectOptions(options: ObjectTriggerOptions, factory: string): ObjectTriggerOptions {
  if (options === null || typeof options !== "object") {
    throw new ConfigurationError(`triggers.${factory} needs { bucket, prefix?, suffix? }`);
  }
  const result: ObjectTriggerOptions = { bucket: requireName(options.bucket, `triggers.${factory}: bucket`) };
  for (const field of ["prefix", "suffix"] as const) {
    const value = options[field];
    if (value === undefined) continue;
    if (typeof value !== "string") throw new ConfigurationError(`triggers.${factory}: ${field} must be a string`);
    if (value !== "") result[field] = value;
  }
  return result;
}

/**
 * Trigger factories. The trigger decides the handler's event type.
 *
 * @example
 * ```ts
 * triggers.objectCreated({ bucket: "sensor-raw", prefix: "readings/" });
 * triggers.http({ path: "/items/{id}", methods: ["POST"] });
 * triggers.schedule({ cron: "0 * * * *", timeZone: "Europe/Paris" });
 * triggers.messages({ source: "queue", name: "readings" });
 * triggers.invoke<{ day: string }>();
 * ```
 */
export const triggers = {
  /** Runs for each object created in `bucket` whose key starts with `prefix` and ends with `suffix`. */
  objectCreated(options: ObjectTriggerOptions): ObjectCreatedTrigger {
    return Object.freeze({ kind: "object.created", ...objectOptions(options, "objectCreated") });
  },
  /** Runs for each object deleted from `bucket` whose key starts with `prefix` and ends with `suffix`. */
  objectDeleted(options: ObjectTriggerOptions): ObjectDeletedTrigger {
    return Object.freeze({ kind: "object.deleted", ...objectOptions(options, "objectDeleted") });
  },
  /** Runs for each HTTP request. */
  http(options: HttpTriggerOptions = {}): HttpTrigger {
    const trigger: { kind: "http"; path?: string; methods?: readonly string[] } = { kind: "http" };
    if (options.path !== undefined) {
      if (!options.path.startsWith("/")) throw new ConfigurationError("triggers.http: path must start with '/'");
      trigger.path = options.path;
    }
    if (options.methods !== undefined) {
      if (!Array.isArray(options.methods) || options.methods.length === 0) {
        throw new ConfigurationError("triggers.http: methods must be a non-empty array");
      }
      trigger.methods = Object.freeze(options.methods.map((method) => requireName(method, "triggers.http: method").toUpperCase()));
    }
    return Object.freeze(trigger);
  },
  /** Runs on a cron schedule (five fields, read in `timeZone`, UTC by default). */
  schedule(options: ScheduleTriggerOptions): ScheduleTrigger {
    const cron = requireName(options?.cron, "triggers.schedule: cron").trim();
    const fields = cron.split(/\s+/);
    if (fields.length !== 5 || !fields.every((field) => CRON_FIELD.test(field))) {
      throw new ConfigurationError(
        `triggers.schedule: cron must have five fields (minute hour day-of-month month day-of-week), got ${JSON.stringify(cron)}`,
      );
    }
    const trigger: { kind: "schedule"; cron: string; timeZone?: string } = { kind: "schedule", cron: fields.join(" ") };
    if (options.timeZone !== undefined) {
      try {
        new Intl.DateTimeFormat("en-US", { timeZone: options.timeZone });
      } catch (cause) {
        throw new ConfigurationError(`triggers.schedule: unknown time zone ${JSON.stringify(options.timeZone)}`, { cause });
      }
      trigger.timeZone = options.timeZone;
    }
    return Object.freeze(trigger);
  },
  /** Runs for each batch of messages from a queue, topic or stream. */
  messages(options: MessagesTriggerOptions): MessagesTrigger {
    const source = options?.source;
    if (source !== "queue" && source !== "topic" && source !== "stream") {
      throw new ConfigurationError(`triggers.messages: source must be "queue", "topic" or "stream", got ${JSON.stringify(source)}`);
    }
    return Object.freeze({ kind: "messages", source, name: requireName(options.name, "triggers.messages: name") });
  },
  /** Runs when invoked directly with a payload. */
  invoke<TPayload = unknown>(): InvokeTrigger<TPayload> {
    return Object.freeze({ kind: "invoke" }) as InvokeTrigger<TPayload>;
  },
};
