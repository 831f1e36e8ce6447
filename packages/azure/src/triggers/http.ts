import type { Cookie, HttpRequest, HttpResponseInit } from "@azure/functions";
import { type HttpEventData, type HttpResult, headersFromPairs, isTextual, queryFromPairs } from "@sluice/core";
import { type Fields, describeValue, isRecord, translationError } from "./fields.js";

/** Whether an input is an `HttpRequest`: only the HTTP trigger passes an object with a URL, a method and a `Headers`. */
export function isHttpRequest(input: unknown): input is HttpRequest {
  return (
    isRecord(input) &&
    typeof (input as Fields).method === "string" &&
    typeof (input as Fields).url === "string" &&
    typeof ((input as Fields).headers as { get?: unknown } | undefined)?.get === "function"
  );
}

/** What the HTTP translator needs besides the request. */
export interface HttpTranslationOptions {
  invocationId: string;
  now: string;
  /** host.json `extensions.http.routePrefix`; stripped from the path so that it matches the trigger's. Default "api". */
  routePrefix?: string;
}

/**
 * An `HttpRequest` to the neutral http event. Query parameters are read from the URL, where repeated
 * parameters survive (the host's own `query` map keeps one value per name); the body is read once, as
 * text when its content type is textual and as base64 otherwise, so binary bodies pass unchanged.
 *
 * @see https://learn.microsoft.com/azure/azure-functions/functions-bindings-http-webhook-trigger#request-object
 */
export async function fromHttpRequest(request: unknown, options: HttpTranslationOptions): Promise<HttpEventData> {
  if (!isHttpRequest(request)) throw translationError("http", "", `must be an HttpRequest, got ${describeValue(request)}`);
  const queryStart = request.url.indexOf("?");
  const afterHost = request.url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, "");
  const rawPath = afterHost.split(/[?#]/)[0] || "/";
  const pairs: Array<[string, string]> =
    queryStart >= 0 ? [...new URLSearchParams(request.url.slice(queryStart + 1).split("#")[0])] : [...request.query.entries()];
  const headers = headersFromPairs(request.headers.entries());
  const event: HttpEventData = {
    kind: "http",
    id: options.invocationId,
    time: options.now,
    method: request.method.toUpperCase(),
    path: stripRoutePrefix(rawPath, options.routePrefix ?? "api"),
    headers,
    query: queryFromPairs(pairs),
    provider: "azure",
  };
  const sourceIp = firstForwardedFor(headers["x-forwarded-for"]);
  if (sourceIp) event.sourceIp = sourceIp;
  if (request.body !== null && request.body !== undefined) {
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.length > 0) {
      event.body = isTextual(headers["content-type"])
        ? { data: new TextDecoder().decode(bytes), encoding: "utf8" }
        : { data: Buffer.from(bytes).toString("base64"), encoding: "base64" };
    }
  }
  return event;
}

function stripRoutePrefix(path: string, prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, "");
  if (trimmed === "") return path;
  if (path === `/${trimmed}`) return "/";
  return path.startsWith(`/${trimmed}/`) ? path.slice(trimmed.length + 1) : path;
}

/** The client's address: the first `X-Forwarded-For` hop, without the port Azure's front end appends. */
function firstForwardedFor(value: string | undefined): string | undefined {
  const first = value?.split(",")[0]?.trim();
  if (!first) return undefined;
  const ipv4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(first);
  if (ipv4WithPort) return ipv4WithPort[1];
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(first);
  return bracketed ? bracketed[1] : first;
}

/**
 * A handler's HTTP answer to the `HttpResponseInit` the v4 model expects. Bodies stay text or bytes;
 * each `Set-Cookie` becomes a `Cookie` object, because the worker flattens headers to one value per name
 * and would keep only the last cookie.
 */
export function toHttpResponseInit(result: HttpResult): HttpResponseInit {
  const response: HttpResponseInit = { status: result.status, headers: { ...result.headers } };
  if (typeof result.body === "string" ? result.body !== "" : result.body.length > 0) response.body = result.body;
  if (result.cookies.length > 0) response.cookies = result.cookies.map(parseSetCookie);
  return response;
}

const SAME_SITE: Record<string, Cookie["sameSite"]> = { strict: "Strict", lax: "Lax", none: "None" };

/** Parses one `Set-Cookie` value into the library's `Cookie`; unknown attributes are dropped. */
export function parseSetCookie(header: string): Cookie {
  const [pair = "", ...attributes] = header.split(";");
  const equals = pair.indexOf("=");
  const cookie: Cookie = {
    name: (equals >= 0 ? pair.slice(0, equals) : pair).trim(),
    value: equals >= 0 ? pair.slice(equals + 1).trim() : "",
  };
  for (const attribute of attributes) {
    const [rawName = "", ...rest] = attribute.split("=");
    const name = rawName.trim().toLowerCase();
    const value = rest.join("=").trim();
    if (name === "domain") cookie.domain = value;
    else if (name === "path") cookie.path = value;
    else if (name === "expires") {
      const expires = Date.parse(value);
      if (Number.isFinite(expires)) cookie.expires = new Date(expires);
    } else if (name === "max-age" && /^-?\d+$/.test(value)) cookie.maxAge = Number(value);
    else if (name === "secure") cookie.secure = true;
    else if (name === "httponly") cookie.httpOnly = true;
    else if (name === "samesite") {
      const sameSite = SAME_SITE[value.toLowerCase()];
      if (sameSite) cookie.sameSite = sameSite;
    }
  }
  return cookie;
}
