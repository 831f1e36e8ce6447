import { epochToIsoTime, queryFromPairs, type HttpEventData, type HttpResult } from "@sluice/core";
import { FieldReader, describe } from "./fields.js";
import { type ApiGatewayV2Response, fromRequestTime, httpBody, responseBody } from "./http.js";

/**
 * Translates an API Gateway HTTP API event in payload format 2.0, or a Lambda function URL event (the same
 * layout). Repeated query parameters and headers arrive comma-joined, so the query is rebuilt from
 * `rawQueryString`; cookies arrive in `cookies`, not in the `cookie` header; `body` may be missing.
 *
 * @param source `"apigw-v2"` or `"function-url"`, for error messages
 * @example
 * ```ts
 * const request = fromApiGatewayV2(event);
 * console.log(request.query.tag); // ["a", "b"] for ?tag=a&tag=b
 * ```
 */
export function fromApiGatewayV2(event: unknown, source: "apigw-v2" | "function-url" = "apigw-v2"): HttpEventData {
  const request = FieldReader.of(source, event, "");
  const context = request.child("requestContext");
  const http = context.child("http");
  const headers = lowerCaseHeaders(request);
  const cookies = request.record.cookies;
  if (Array.isArray(cookies) && cookies.length > 0) {
    if (!cookies.every((cookie) => typeof cookie === "string")) throw request.fail("cookies", "must be an array of strings");
    headers.cookie = cookies.join("; ");
  }
  const raw = request.record.rawQueryString;
  let query: HttpEventData["query"];
  if (typeof raw === "string") query = queryFromRaw(raw);
  else query = queryFromPairs(Object.entries(request.stringMap("queryStringParameters")));
  const epoch = context.record.timeEpoch;
  // A number outside the dates JavaScript holds is no time: undefined, then the error below, never a RangeError.
  const time = typeof epoch === "number" && Number.isFinite(epoch) ? epochToIsoTime(epoch, "ms") : fromRequestTime(context.record.time);
  if (!time) throw context.fail("timeEpoch", `must be epoch milliseconds, got ${describe(epoch)}`);
  const data: HttpEventData = {
    kind: "http",
    id: context.string("requestId"),
    time,
    method: http.string("method").toUpperCase(),
    path: request.optionalString("rawPath") ?? http.string("path"),
    headers,
    query,
    provider: "aws",
  };
  const params = request.stringMap("pathParameters");
  if (Object.keys(params).length > 0) data.params = params;
  const sourceIp = http.optionalString("sourceIp");
  if (sourceIp !== undefined) data.sourceIp = sourceIp;
  const body = httpBody(request);
  if (body) data.body = body;
  return data;
}

/**
 * The answer HTTP API 2.0 and function URLs expect: `cookies` as an array, headers single-valued, a binary
 * body base64 with `isBase64Encoded`.
 *
 * @example
 * ```ts
 * toApiGatewayV2Response({ status: 200, headers: { "content-type": "application/json" }, cookies: [], body: "{}" });
 * ```
 */
export function toApiGatewayV2Response(result: HttpResult): ApiGatewayV2Response {
  const response: ApiGatewayV2Response = {
    statusCode: result.status,
    headers: { ...result.headers },
    ...responseBody(result),
  };
  if (result.cookies.length > 0) response.cookies = [...result.cookies];
  return response;
}

/** `headers` with lower-case names, in one pass (API Gateway v2 already sends them lower case). */
function lowerCaseHeaders(request: FieldReader): Record<string, string> {
  const value = request.record.headers;
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) return request.stringMap("headers");
  const headers: Record<string, string> = {};
  for (const name in value) {
    if (!Object.hasOwn(value, name)) continue;
    const item = (value as Record<string, unknown>)[name];
    if (item === null || item === undefined) continue;
    if (typeof item !== "string") return request.stringMap("headers"); // raises the error naming the field
    headers[name.toLowerCase()] = item;
  }
  return headers;
}

/**
 * `rawQueryString` as `URLSearchParams` reads it. A query with nothing to decode (no `%`, no `+`, no
 * leading `?`) is split by hand: `URLSearchParams` was a tenth of an HTTP dispatch in the profile.
 */
function queryFromRaw(raw: string): HttpEventData["query"] {
  if (raw.includes("%") || raw.includes("+") || raw.startsWith("?")) return queryFromPairs(new URLSearchParams(raw));
  // Straight into the query, as queryFromPairs would build it, without an array of pairs to iterate
  // (the pairs and their iteration were an eighth of an HTTP dispatch in the profile).
  const query: HttpEventData["query"] = {};
  let start = 0;
  // The next "=" is remembered, not searched for from each parameter: a long query of names without
  // values would otherwise be scanned to its end once per parameter.
  let equals = raw.indexOf("=");
  while (start <= raw.length) {
    let end = raw.indexOf("&", start);
    if (end === -1) end = raw.length;
    if (equals !== -1 && equals < start) equals = raw.indexOf("=", start);
    if (end > start) {
      const name = equals === -1 || equals > end ? raw.slice(start, end) : raw.slice(start, equals);
      const value = equals === -1 || equals > end ? "" : raw.slice(equals + 1, end);
      const existing = query[name];
      if (existing === undefined) query[name] = value;
      else if (Array.isArray(existing)) existing.push(value);
      else query[name] = [existing, value];
    }
    start = end + 1;
  }
  return query;
}
