import { HttpError } from "../errors.js";

/** A handler's HTTP answer in one shape, which each adapter turns into its platform's format. */
export interface HttpResult {
  status: number;
  /** Lower-case names. `set-cookie` is never here: see `cookies`. */
  headers: Record<string, string>;
  /** Each `Set-Cookie` value. */
  cookies: string[];
  /** Text, or bytes for a binary body (adapters base64-encode it where the platform requires). */
  body: string | Uint8Array;
}

/** The explicit response shape a handler may return. */
export interface HttpResponseInit {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: unknown;
}

const RESPONSE_KEYS = new Set(["status", "headers", "body", "cookies"]);

/**
 * Whether a returned value is the explicit `{ status, headers?, body? }` shape rather than a JSON value
 * to send. It must have a numeric `status` and no keys beyond `status`, `headers`, `body`, `cookies`.
 *
 * @example
 * ```ts
 * isHttpResponseInit({ status: 201, body: "created" }); // true
 * ```
 */
export function isHttpResponseInit(value: unknown): value is HttpResponseInit {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const record = value as Record<string, unknown>;
  if (typeof record.status !== "number" || !Number.isInteger(record.status)) return false;
  // for…in, not Object.keys(…).every: no array per response.
  for (const key in record) if (Object.hasOwn(record, key) && !RESPONSE_KEYS.has(key)) return false;
  return true;
}

function isWebResponse(value: unknown): value is Response {
  return typeof Response !== "undefined" && value instanceof Response;
}

/**
 * Turns whatever an HTTP handler returned into an {@link HttpResult}.
 *
 * @example
 * ```ts
 * await toHttpResult({ ok: true }); // { status: 200, headers: { "content-type": "application/json" }, cookies: [], body: '{"ok":true}' }
 * ```
 */
export async function toHttpResult(value: unknown): Promise<HttpResult> {
  return httpResultOf(value);
}

/**
 * {@link toHttpResult} without a promise where none is needed: only a web `Response` has a body to
 * await. The runtime answers most requests this way, an await fewer per request.
 */
export function httpResultOf(value: unknown): HttpResult | Promise<HttpResult> {
  if (isWebResponse(value)) return fromWebResponse(value);
  if (isHttpResponseInit(value)) {
    const headers: Record<string, string> = {};
    const cookies: string[] = [];
    const given = value.headers ?? {};
    for (const name in given) {
      if (!Object.hasOwn(given, name)) continue;
      const headerValue = given[name] as string | string[];
      const lower = name.toLowerCase();
      const values = Array.isArray(headerValue) ? headerValue.map(String) : [String(headerValue)];
      if (lower === "set-cookie") cookies.push(...values);
      else headers[lower] = values.join(", ");
    }
    const cookieField = (value as { cookies?: unknown }).cookies;
    if (Array.isArray(cookieField)) cookies.push(...cookieField.map(String));
    return { status: value.status, headers, cookies, body: encodeBody(value.body, headers) };
  }
  if (value === undefined || value === null) return { status: 204, headers: {}, cookies: [], body: "" };
  const headers: Record<string, string> = {};
  return { status: 200, headers, cookies: [], body: encodeBody(value, headers) };
}

async function fromWebResponse(value: Response): Promise<HttpResult> {
  const headers: Record<string, string> = {};
  value.headers.forEach((headerValue, name) => {
    if (name !== "set-cookie") headers[name] = headerValue;
  });
  const cookies = typeof value.headers.getSetCookie === "function" ? value.headers.getSetCookie() : [];
  const body = new Uint8Array(await value.arrayBuffer());
  return { status: value.status, headers, cookies, body: isTextual(headers["content-type"]) ? new TextDecoder().decode(body) : body };
}

function encodeBody(body: unknown, headers: Record<string, string>): string | Uint8Array {
  if (body === undefined || body === null) return "";
  if (typeof body === "string") {
    headers["content-type"] ??= "text/plain; charset=utf-8";
    return body;
  }
  if (body instanceof Uint8Array) {
    headers["content-type"] ??= "application/octet-stream";
    return body;
  }
  headers["content-type"] ??= "application/json";
  return JSON.stringify(body);
}

/**
 * Whether a content type is text, so that a body of that type is sent without base64.
 *
 * @example
 * ```ts
 * isTextual("application/json; charset=utf-8"); // true
 * ```
 */
export function isTextual(contentType: string | undefined): boolean {
  if (!contentType) return true;
  const type = contentType.toLowerCase();
  return (
    type.startsWith("text/") ||
    type.includes("json") ||
    type.includes("xml") ||
    type.includes("javascript") ||
    type.includes("x-www-form-urlencoded") ||
    type.includes("charset=")
  );
}

/**
 * The answer to a handler error: the HttpError's status and message, else a bare 500. Never a stack trace.
 *
 * @example
 * ```ts
 * httpErrorResult(new HttpError(422, "value must be a number")).status; // 422
 * ```
 */
export function httpErrorResult(error: unknown): HttpResult {
  if (error instanceof HttpError) {
    return {
      status: error.status,
      headers: { "content-type": "application/json" },
      cookies: [],
      body: JSON.stringify({ error: error.message }),
    };
  }
  return {
    status: 500,
    headers: { "content-type": "application/json" },
    cookies: [],
    body: JSON.stringify({ error: "Internal Server Error" }),
  };
}
