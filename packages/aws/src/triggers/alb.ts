import { STATUS_CODES } from "node:http";
import { headersFromPairs, queryFromPairs, type HttpEventData, type HttpResult } from "@sluice/core";
import { FieldReader } from "./fields.js";
import { type AlbResponse, decodeQueryComponent, httpBody, responseBody } from "./http.js";

/**
 * Translates an Application Load Balancer request. The target group sends either single-value maps or,
 * with multi-value headers enabled, only `multiValue*` maps, never both; query names and values are not
 * decoded ("the load balancer does not decode them", ELB User Guide, "Lambda functions as targets");
 * `requestContext` holds only `elb.targetGroupArn`, so there is no request time: `receivedAt` is used.
 *
 * @example
 * ```ts
 * const request = fromAlb(event, new Date().toISOString());
 * ```
 */
export function fromAlb(event: unknown, receivedAt: string): HttpEventData {
  const request = FieldReader.of("alb", event, "");
  request.child("requestContext").child("elb");
  const multiHeaders = request.stringListMap("multiValueHeaders");
  const headerPairs = isMultiValue(event)
    ? Object.entries(multiHeaders).flatMap(([name, values]) => values.map((value): [string, string] => [name, value]))
    : Object.entries(request.stringMap("headers"));
  const multiQuery = request.stringListMap("multiValueQueryStringParameters");
  const queryPairs = isMultiValue(event)
    ? Object.entries(multiQuery).flatMap(([name, values]) => values.map((value): [string, string] => [name, value]))
    : Object.entries(request.stringMap("queryStringParameters"));
  const headers = headersFromPairs(headerPairs);
  const data: HttpEventData = {
    kind: "http",
    // ALB gives no request id; its trace header is unique per request.
    id: headers["x-amzn-trace-id"] ?? `alb-${receivedAt}`,
    time: receivedAt,
    method: request.string("httpMethod").toUpperCase(),
    path: request.string("path"),
    headers,
    query: queryFromPairs(queryPairs.map(([name, value]) => [decodeQueryComponent(name), decodeQueryComponent(value)])),
    provider: "aws",
  };
  const body = httpBody(request);
  if (body) data.body = body;
  return data;
}

/** Whether the target group has multi-value headers enabled: then the request has `multiValueHeaders` only. */
function isMultiValue(event: unknown): boolean {
  return typeof event === "object" && event !== null && "multiValueHeaders" in event && !("headers" in event);
}

/**
 * Whether an ALB request is the load balancer's health check (`user-agent: ELB-HealthChecker/2.0`), which is
 * answered 200 without running the function.
 *
 * @example
 * ```ts
 * if (isAlbHealthCheck(event)) return { statusCode: 200, statusDescription: "200 OK", body: "" };
 * ```
 */
export function isAlbHealthCheck(event: unknown): boolean {
  const request = event as { headers?: Record<string, unknown>; multiValueHeaders?: Record<string, unknown> };
  const agent = request.headers?.["user-agent"] ?? (request.multiValueHeaders?.["user-agent"] as unknown[] | undefined)?.[0];
  return typeof agent === "string" && agent.startsWith("ELB-HealthChecker/");
}

/**
 * The answer an ALB expects, in the same header mode as the request: `statusDescription` is required,
 * and with single-value headers only one `Set-Cookie` can be sent (the last is kept).
 *
 * @example
 * ```ts
 * toAlbResponse({ status: 200, headers: {}, cookies: [], body: "ok" }, { multiValue: false });
 * ```
 */
export function toAlbResponse(result: HttpResult, mode: { multiValue: boolean }): AlbResponse {
  const statusDescription = `${result.status} ${STATUS_CODES[result.status] ?? ""}`.trim();
  if (mode.multiValue) {
    const multiValueHeaders: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(result.headers)) multiValueHeaders[name] = [value];
    if (result.cookies.length > 0) multiValueHeaders["set-cookie"] = [...result.cookies];
    return { statusCode: result.status, statusDescription, multiValueHeaders, ...responseBody(result) };
  }
  const headers: Record<string, string> = { ...result.headers };
  const lastCookie = result.cookies[result.cookies.length - 1];
  if (lastCookie !== undefined) headers["set-cookie"] = lastCookie;
  return { statusCode: result.status, statusDescription, headers, ...responseBody(result) };
}

/** Whether an ALB request came in multi-value mode, so the answer must use it too. */
export function isAlbMultiValue(event: unknown): boolean {
  return isMultiValue(event);
}
