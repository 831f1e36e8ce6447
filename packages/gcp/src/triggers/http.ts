import { type HttpEventData, headersFromPairs, isTextual, queryFromPairs } from "@sluice/core";
import type { TranslationEnv } from "./fields.js";

/**
 * An HTTP request as the adapter reads it from the Functions Framework's Express request: the raw
 * body bytes (`req.rawBody`), not Express's parsed body, so that nothing is lost or re-encoded.
 *
 * @example
 * ```ts
 * const request: GcpHttpRequest = { method: "GET", path: "/status", search: "key=a%2Fb", headers: { host: "example" } };
 * ```
 */
export interface GcpHttpRequest {
  /** Upper or lower case; made upper case. */
  method: string;
  /** Without the query string, as requested. */
  path: string;
  /** The raw query string without `?` (still percent-encoded). */
  search: string;
  /** Node's header map: lower-case names; `string[]` only for repeated headers Node keeps apart. */
  headers: Record<string, string | string[] | undefined>;
  body?: Uint8Array | string;
  /** The peer address, when known. */
  ip?: string;
}

/** One header's value; repeated values joined with `, `. */
export function headerValue(headers: GcpHttpRequest["headers"], name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(", ") : value;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function bodyOf(request: GcpHttpRequest, contentType: string | undefined): HttpEventData["body"] {
  const { body } = request;
  if (body === undefined || body.length === 0) return undefined;
  if (typeof body === "string") return { data: body, encoding: "utf8" };
  if (isTextual(contentType)) {
    try {
      return { data: strictUtf8.decode(body), encoding: "utf8" };
    } catch {
      // Declared as text but not UTF-8: keep the exact bytes.
    }
  }
  return { data: Buffer.from(body).toString("base64"), encoding: "base64" };
}

/**
 * The request id: GCF's `function-execution-id` header where it is sent (1st gen), else the trace id of
 * `x-cloud-trace-context` or `traceparent`, which every request through Google's front end carries.
 */
function requestId(request: GcpHttpRequest, env: TranslationEnv): string {
  const execution = headerValue(request.headers, "function-execution-id");
  if (execution) return execution;
  const trace = headerValue(request.headers, "x-cloud-trace-context")?.split("/")[0];
  if (trace) return trace;
  const parent = headerValue(request.headers, "traceparent")?.split("-")[1];
  return parent || env.newId();
}

/**
 * Translates a request to an HTTP function into the neutral HTTP event. Repeated query parameters are
 * kept as arrays (parsed from the raw query string, not Express's `req.query`).
 *
 * @example
 * ```ts
 * fromHttpRequest({ method: "GET", path: "/status", search: "tag=a&tag=b", headers: {} }, env).query; // { tag: ["a", "b"] }
 * ```
 */
export function fromHttpRequest(request: GcpHttpRequest, env: TranslationEnv): HttpEventData {
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) pairs.push([name, item]);
  }
  const headers = headersFromPairs(pairs);
  // Google's front end appends the client to X-Forwarded-For; the socket peer is the front end itself.
  const sourceIp = headers["x-forwarded-for"]?.split(",")[0]?.trim() || request.ip;
  const body = bodyOf(request, headers["content-type"]);
  return {
    kind: "http",
    id: requestId(request, env),
    time: env.now(),
    method: request.method.toUpperCase(),
    path: request.path,
    headers,
    query: queryFromPairs(new URLSearchParams(request.search)),
    ...(sourceIp ? { sourceIp } : {}),
    ...(body !== undefined ? { body } : {}),
    provider: "gcp",
  };
}
