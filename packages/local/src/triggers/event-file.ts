import {
  EventTranslationError,
  headersFromPairs,
  normalizeIsoTime,
  queryFromPairs,
  type HttpEventData,
  type MessageData,
  type NeutralEventData,
} from "@sluice/core";

/**
 * The local provider's native format is the neutral event itself, as JSON (what `sluice invoke --event`
 * reads). Readers are not part of it, and a message body is a string or `{ "base64": "..." }`.
 */
export type LocalEventFile = Record<string, unknown>;

type Fields = Record<string, unknown>;

const fail = (field: string, reason: string) => new EventTranslationError({ provider: "local", source: "event-file", field, reason });

function isRecord(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function requireString(record: Fields, field: string, path = field): string {
  const value = record[field];
  if (typeof value !== "string" || value === "") throw fail(path, `must be a non-empty string, got ${describe(value)}`);
  return value;
}

function optionalString(record: Fields, field: string, path = field): string | undefined {
  const value = record[field];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") throw fail(path, `must be a string, got ${describe(value)}`);
  return value;
}

function timeOf(record: Fields, path: string, fallback: () => string): string {
  const value = record.time;
  if (value === undefined || value === null) return fallback();
  const time = normalizeIsoTime(value);
  if (!time) throw fail(path, `must be an ISO 8601 time, got ${describe(value)}`);
  return time;
}

function stringMap(value: unknown, path: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw fail(path, `must be an object of strings, got ${describe(value)}`);
  const result: Record<string, string> = {};
  for (const [name, item] of Object.entries(value)) {
    if (typeof item !== "string") throw fail(`${path}.${name}`, `must be a string, got ${describe(item)}`);
    result[name] = item;
  }
  return result;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return value.length > 40 ? `a ${value.length}-character string` : JSON.stringify(value);
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

/**
 * Checks a local event file and returns the neutral event it describes. Times are normalised; fields
 * the kind does not need are ignored; anything missing or mistyped raises `EventTranslationError`.
 *
 * @example
 * ```ts
 * fromLocalEvent({ kind: "object.created", bucket: "sensor-raw", key: "readings/a.ndjson" }, () => new Date().toISOString());
 * ```
 */
export function fromLocalEvent(input: unknown, now: () => string): NeutralEventData {
  if (!isRecord(input)) throw fail("", `an event file must hold a JSON object, got ${describe(input)}`);
  const kind = input.kind;
  switch (kind) {
    case "object.created":
    case "object.deleted": {
      const bucket = requireString(input, "bucket");
      const key = requireString(input, "key");
      const size = input.size;
      if (size !== undefined && size !== null && !(typeof size === "number" && Number.isSafeInteger(size) && size >= 0)) {
        throw fail("size", `must be a non-negative integer, got ${describe(size)}`);
      }
      const event: NeutralEventData = {
        kind,
        id: optionalString(input, "id") ?? `${bucket}/${key}`,
        time: timeOf(input, "time", now),
        bucket,
        key,
        provider: "local",
      };
      if (typeof size === "number") event.size = size;
      const etag = optionalString(input, "etag");
      if (etag) event.etag = etag.replace(/^"|"$/g, "");
      const contentType = optionalString(input, "contentType");
      if (contentType) event.contentType = contentType;
      const version = optionalString(input, "version");
      if (version) event.version = version;
      return event;
    }
    case "http": {
      const method = requireString(input, "method").toUpperCase();
      const path = optionalString(input, "path") ?? "/";
      if (!path.startsWith("/")) throw fail("path", "must start with '/'");
      const headers = headersFromPairs(Object.entries(stringMap(input.headers, "headers")));
      const pairs: Array<[string, string]> = [];
      if (input.query !== undefined && input.query !== null) {
        if (!isRecord(input.query)) throw fail("query", `must be an object, got ${describe(input.query)}`);
        for (const [name, value] of Object.entries(input.query)) {
          if (typeof value === "string") pairs.push([name, value]);
          else if (Array.isArray(value) && value.every((item) => typeof item === "string"))
            pairs.push(...value.map((item): [string, string] => [name, item]));
          else throw fail(`query.${name}`, `must be a string or an array of strings, got ${describe(value)}`);
        }
      }
      const query = queryFromPairs(pairs);
      const event: HttpEventData = {
        kind: "http",
        id: optionalString(input, "id") ?? "local-request",
        time: timeOf(input, "time", now),
        method,
        path,
        headers,
        query,
        provider: "local",
      };
      const body = input.body;
      if (typeof body === "string") event.body = { data: body, encoding: "utf8" };
      else if (isRecord(body) && typeof body.base64 === "string") event.body = { data: body.base64, encoding: "base64" };
      else if (body !== undefined && body !== null) event.body = { data: JSON.stringify(body), encoding: "utf8" };
      return event;
    }
    case "schedule":
      return {
        kind,
        id: optionalString(input, "id") ?? "local-schedule",
        time: timeOf(input, "time", now),
        schedule: optionalString(input, "schedule") ?? "local",
        provider: "local",
      };
    case "invoke":
      return {
        kind,
        id: optionalString(input, "id") ?? "local-invoke",
        time: timeOf(input, "time", now),
        payload: input.payload,
        provider: "local",
      };
    case "messages": {
      const source = input.source;
      if (source !== "queue" && source !== "topic" && source !== "stream")
        throw fail("source", `must be "queue", "topic" or "stream", got ${describe(source)}`);
      if (!Array.isArray(input.messages)) throw fail("messages", `must be an array, got ${describe(input.messages)}`);
      const messages = input.messages.map((message, index): MessageData => {
        const path = `messages[${index}]`;
        if (!isRecord(message)) throw fail(path, `must be an object, got ${describe(message)}`);
        const body = message.body;
        let bytes: Uint8Array;
        if (typeof body === "string") bytes = new TextEncoder().encode(body);
        else if (isRecord(body) && typeof body.base64 === "string") bytes = Buffer.from(body.base64, "base64");
        else throw fail(`${path}.body`, `must be a string or { "base64": "..." }, got ${describe(body)}`);
        const data: MessageData = {
          id: optionalString(message, "id", `${path}.id`) ?? String(index + 1),
          time: timeOf(message, `${path}.time`, now),
          body: bytes,
          attributes: stringMap(message.attributes, `${path}.attributes`),
        };
        const attempt = message.attempt;
        if (attempt !== undefined) {
          if (!(typeof attempt === "number" && Number.isInteger(attempt) && attempt >= 1))
            throw fail(`${path}.attempt`, "must be an integer >= 1");
          data.attempt = attempt;
        }
        return data;
      });
      return { kind, source, name: requireString(input, "name"), messages, provider: "local" };
    }
    default:
      throw fail("kind", `must be one of object.created, object.deleted, http, schedule, messages, invoke; got ${describe(kind)}`);
  }
}
