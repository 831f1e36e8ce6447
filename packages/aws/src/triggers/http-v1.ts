import { headersFromPairs, isoTimeFromMillis, queryFromPairs, type HttpEventData, type HttpResult } from "@sluice/core";
import { FieldReader, describe } from "./fields.js";
import { type ApiGatewayV1Response, fromRequestTime, httpBody, responseBody } from "./http.js";

/**
 * Translates an API Gateway REST API proxy event, or an HTTP API event in payload format 1.0. The
 * single-value maps keep only the last value of a repeated key, so the `multiValue*` maps are read when
 * present; every map may be `null` (the console's Test button sends `headers: null`); `path` is without
 * the stage. API Gateway has already decoded query values.
 *
 * @example
 * ```ts
 * const request = fromApiGatewayV1(event);
 * console.log(request.method, request.path, request.query);
 * ```
 */
export function fromApiGatewayV1(event: unknown): HttpEventData {
  const request = FieldReader.of("apigw-v1", event, "");
  const context = request.child("requestContext");
  const multiHeaders = request.stringListMap("multiValueHeaders");
  const headerPairs =
    Object.keys(multiHeaders).length > 0
      ? Object.entries(multiHeaders).flatMap(([name, values]) => values.map((value): [string, string] => [name, value]))
      : Object.entries(request.stringMap("headers"));
  const multiQuery = request.stringListMap("multiValueQueryStringParameters");
  const queryPairs =
    Object.keys(multiQuery).length > 0
      ? Object.entries(multiQuery).flatMap(([name, values]) => values.map((value): [string, string] => [name, value]))
      : Object.entries(request.stringMap("queryStringParameters"));
  const epoch = context.record.requestTimeEpoch;
  const time = typeof epoch === "number" && Number.isFinite(epoch) ? isoTimeFromMillis(epoch) : fromRequestTime(context.record.requestTime);
  if (!time) throw context.fail("requestTimeEpoch", `must be epoch milliseconds, got ${describe(epoch)}`);
  const data: HttpEventData = {
    kind: "http",
    id: context.string("requestId"),
    time,
    method: request.string("httpMethod").toUpperCase(),
    path: request.string("path"),
    headers: headersFromPairs(headerPairs),
    query: queryFromPairs(queryPairs),
    provider: "aws",
  };
  const params = request.stringMap("pathParameters");
  if (Object.keys(params).length > 0) data.params = params;
  const sourceIp = context.optionalChild("identity")?.optionalString("sourceIp");
  if (sourceIp !== undefined) data.sourceIp = sourceIp;
  const body = httpBody(request);
  if (body) data.body = body;
  return data;
}

/**
 * The answer API Gateway REST (and HTTP API 1.0) expects: each `Set-Cookie` in `multiValueHeaders`, which
 * API Gateway merges with `headers`; a binary body base64 with `isBase64Encoded` (REST APIs also need the
 * content type in the API's binary media types).
 *
 * @example
 * ```ts
 * toApiGatewayV1Response({ status: 201, headers: {}, cookies: ["a=1"], body: "created" });
 * ```
 */
export function toApiGatewayV1Response(result: HttpResult): ApiGatewayV1Response {
  const response: ApiGatewayV1Response = { statusCode: result.status, headers: { ...result.headers }, ...responseBody(result) };
  if (result.cookies.length > 0) response.multiValueHeaders = { "set-cookie": [...result.cookies] };
  return response;
}
