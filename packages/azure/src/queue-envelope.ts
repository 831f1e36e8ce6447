import { HOPS_ATTRIBUTE } from "@sluice/core";

/**
 * How Sluice writes a Storage Queue message's text, and reads it back on the consuming side.
 *
 * A Storage Queue message is text and nothing else: no attributes, no key. The Functions host's queue
 * trigger base64-decodes the text by default (host.json `extensions.queues.messageEncoding: "base64"`),
 * turns the bytes into a string as UTF-8, and the `@azure/functions` library JSON-parses every string that
 * parses. So a body is written **plain** (its bytes, base64-encoded) when that trip gives the same bytes
 * back, which is what any other queue consumer expects; otherwise, and when the message carries attributes
 * other than the hop count, it is written as an **envelope**, a JSON object whose first key is
 * `"sluice-envelope"`, that Sluice's `fromStorageQueue` unwraps:
 *
 * ```json
 * {"sluice-envelope":1,"attributes":{"sluice-hops":"2","sluice-claim-check":"1"},"body":"…"}
 * {"sluice-envelope":1,"attributes":{},"bodyBase64":"AAEC/v8="}
 * ```
 */
export const ENVELOPE_MARKER = "sluice-envelope";

/**
 * What the host's `messageEncoding` is: base64 (the default) or none (the text as it is).
 *
 * @example
 * ```ts
 * new AzureMessaging({ queueMessageEncoding: "none" }); // host.json: extensions.queues.messageEncoding "none"
 * ```
 */
export type QueueMessageEncoding = "base64" | "none";

/**
 * When a message is wrapped in an envelope: only when its bytes or attributes need one (default), or always.
 *
 * @example
 * ```ts
 * new AzureMessaging({ queueEnvelope: "always" }); // hop counts on every message, for queues only Sluice reads
 * ```
 */
export type QueueEnvelopeMode = "when-needed" | "always";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8 = new TextEncoder();

/** The body as text when its bytes are valid UTF-8 (a BOM kept), else `undefined`. */
function textOf(body: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(body);
  } catch {
    return undefined;
  }
}

/** What `@azure/functions` does to a string input: `JSON.parse` when it parses (`tryJsonParse`). */
function libraryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Whether a text survives the host and the library unchanged as Sluice's translator reads it back: a
 * string stays itself; a parsed JSON value is serialised again, so `{"a": 1}` (with a space) would come
 * back as `{"a":1}` and `"x"` as `x`, and those need an envelope.
 */
function survivesHost(text: string): boolean {
  const parsed = libraryParse(text);
  if (typeof parsed === "string") return parsed === text;
  if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) && ENVELOPE_MARKER in parsed) return false;
  return JSON.stringify(parsed) === text;
}

/** Characters XML 1.0 cannot carry even escaped: with `messageEncoding: "none"` they need the envelope. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters XML 1.0 refuses.
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

/** The envelope for a body and its attributes, as UTF-8 JSON. */
function envelope(body: Uint8Array, attributes: Record<string, string>): Uint8Array {
  const text = textOf(body);
  const wrapped: Record<string, unknown> = { [ENVELOPE_MARKER]: 1, attributes };
  if (text !== undefined && !NOT_XML.test(text)) wrapped.body = text;
  else wrapped.bodyBase64 = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("base64");
  return utf8.encode(JSON.stringify(wrapped));
}

/**
 * The bytes a message becomes before the transport encoding (base64 or none): the body itself when it can
 * travel plain, else the envelope. The hop count alone does not force an envelope unless `mode` is
 * `"always"`: a plain consumer must keep getting plain payloads (so, in that mode, loops through Storage
 * Queues are not counted; `definePipeline` still refuses declared cycles).
 */
export function queuePayload(
  body: Uint8Array,
  attributes: Record<string, string>,
  options: { encoding: QueueMessageEncoding; mode: QueueEnvelopeMode },
): Uint8Array {
  if (options.mode === "always") return envelope(body, attributes);
  const needsAttributes = Object.keys(attributes).some((name) => name !== HOPS_ATTRIBUTE);
  const text = needsAttributes ? undefined : textOf(body);
  if (text !== undefined && survivesHost(text) && !(options.encoding === "none" && NOT_XML.test(text))) return body;
  return envelope(body, attributes);
}

/** The message text Azure Storage receives for a payload: base64 of its bytes, or the UTF-8 text itself. */
export function queueMessageText(payload: Uint8Array, encoding: QueueMessageEncoding): string {
  return encoding === "base64"
    ? Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString("base64")
    : new TextDecoder().decode(payload);
}

/** A decoded envelope: the producer's bytes and attributes. */
export interface QueueEnvelope {
  body: Uint8Array;
  attributes: Record<string, string>;
}

/**
 * Unwraps an envelope from what the trigger handed over: the object the library parsed, or the text or
 * bytes when the function is registered with `dataType: "binary"` or `"string"`. `undefined` when the input
 * is not an envelope (a plain message).
 */
export function openQueueEnvelope(input: unknown): QueueEnvelope | undefined {
  let candidate = input;
  if (typeof input === "string" || input instanceof Uint8Array) {
    const text = typeof input === "string" ? input : textOf(input);
    if (text === undefined || !text.startsWith(`{"${ENVELOPE_MARKER}":`)) return undefined;
    candidate = libraryParse(text);
  }
  if (typeof candidate !== "object" || candidate === null || Array.isArray(candidate)) return undefined;
  const fields = candidate as Record<string, unknown>;
  if (fields[ENVELOPE_MARKER] !== 1) return undefined;
  const attributes: Record<string, string> = {};
  if (typeof fields.attributes === "object" && fields.attributes !== null) {
    for (const [name, value] of Object.entries(fields.attributes)) if (typeof value === "string") attributes[name] = value;
  }
  if (typeof fields.body === "string") return { body: utf8.encode(fields.body), attributes };
  if (typeof fields.bodyBase64 === "string") return { body: new Uint8Array(Buffer.from(fields.bodyBase64, "base64")), attributes };
  return undefined;
}
