import { CLAIM_CHECK_ATTRIBUTE } from "@sluice/core";

/**
 * The SQS message attribute that says how Sluice encoded a body SQS could not carry as it is. Its only
 * value is `"base64"`: the body is the base64 of the bytes the producer sent, and a Sluice consumer
 * (`fromSqsMessages`) decodes it and removes the attribute.
 *
 * @example
 * ```ts
 * message.messageAttributes[SQS_BODY_ENCODING_ATTRIBUTE]?.stringValue; // "base64"
 * ```
 */
export const SQS_BODY_ENCODING_ATTRIBUTE = "sluice-body-encoding";

/**
 * The JSON field that wraps a claim check on Firehose and Kinesis, which carry no attributes: the record is
 * `{"sluice-claim-check":{…pointer…}}`, and `fromKinesis` / `fromFirehose` turn it back into the pointer
 * with the claim-check attribute, so that the runtime reads the payload back as on SQS.
 *
 * @example
 * ```ts
 * JSON.parse(recordText)[CLAIM_CHECK_FIELD]; // { provider: "aws", bucket: "claims", key: "sluice-claim-checks/…", size: 2345678 }
 * ```
 */
export const CLAIM_CHECK_FIELD = "sluice-claim-check";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/**
 * SQS takes only these characters in a body: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD |
 * #x10000 to #x10FFFF (SQS API Reference, SendMessage, MessageBody). A strict UTF-8 decode yields no lone
 * surrogates, so the surrogate code units in the class below are always pairs, the astral range.
 */
const SQS_INVALID = /[^\t\n\r\u0020-\uFFFD]/;

/**
 * How a body travels in SQS: as the text it is when it is UTF-8 made only of the characters SQS accepts,
 * and otherwise (binary, control characters, U+FFFE, or empty, which SQS refuses) as base64 with
 * {@link SQS_BODY_ENCODING_ATTRIBUTE}. Base64 of nothing is empty too, so an empty body is sent as `"="`,
 * which decodes to no bytes.
 *
 * @example
 * ```ts
 * sqsBody(Uint8Array.from([0, 255])); // { text: "AP8=", base64: true }
 * ```
 */
export function sqsBody(body: Uint8Array): { text: string; base64: boolean } {
  if (body.byteLength === 0) return { text: "=", base64: true };
  let text: string | undefined;
  try {
    text = strictUtf8.decode(body);
  } catch {
    text = undefined;
  }
  // A decoded BOM would be dropped by TextDecoder: bytes that start with one are not sent as text.
  if (text !== undefined && !SQS_INVALID.test(text) && !(body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf)) {
    return { text, base64: false };
  }
  return { text: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("base64"), base64: true };
}

/** The bytes of an SQS body: base64-decoded when its encoding attribute says so (see {@link sqsBody}). */
export function fromSqsBody(text: string, encoding: string | undefined): Uint8Array {
  if (encoding === "base64") return new Uint8Array(Buffer.from(text, "base64"));
  return encoder.encode(text);
}

const CLAIM_CHECK_PREFIX = encoder.encode(`{"${CLAIM_CHECK_FIELD}":`);

/**
 * A claim-check message's body for a service without attributes: the pointer inside
 * `{"sluice-claim-check": …}`, so that a consumer can tell it from a payload.
 */
export function wrapClaimCheck(pointer: Uint8Array): Uint8Array {
  const wrapped = new Uint8Array(CLAIM_CHECK_PREFIX.byteLength + pointer.byteLength + 1);
  wrapped.set(CLAIM_CHECK_PREFIX, 0);
  wrapped.set(pointer, CLAIM_CHECK_PREFIX.byteLength);
  wrapped[wrapped.byteLength - 1] = 0x7d; // "}"
  return wrapped;
}

/** Bytes {@link wrapClaimCheck} adds. */
export const CLAIM_CHECK_WRAPPING_BYTES = CLAIM_CHECK_PREFIX.byteLength + 1;

/**
 * The pointer and the claim-check attribute when a record's bytes are a wrapped claim check (a trailing
 * newline, as Firehose records carry, is allowed); `undefined` for any other record, left as it is.
 *
 * @example
 * ```ts
 * unwrapClaimCheck(new TextEncoder().encode('{"sluice-claim-check":{"bucket":"b","key":"k"}}'))?.body; // the pointer's bytes
 * ```
 */
export function unwrapClaimCheck(data: Uint8Array): { body: Uint8Array; attributes: Record<string, string> } | undefined {
  if (data.byteLength < CLAIM_CHECK_WRAPPING_BYTES || data[0] !== 0x7b) return undefined;
  for (let index = 0; index < CLAIM_CHECK_PREFIX.byteLength; index++) if (data[index] !== CLAIM_CHECK_PREFIX[index]) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(strictUtf8.decode(data));
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Object.keys(parsed).length !== 1) return undefined;
  const pointer = (parsed as Record<string, unknown>)[CLAIM_CHECK_FIELD];
  if (typeof pointer !== "object" || pointer === null || Array.isArray(pointer)) return undefined;
  return { body: encoder.encode(JSON.stringify(pointer)), attributes: { [CLAIM_CHECK_ATTRIBUTE]: "1" } };
}
