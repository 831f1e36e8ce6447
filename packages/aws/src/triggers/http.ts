import type { HttpEventData, HttpResult } from "@sluice/core";
import { type FieldReader, describe, isStrictBase64 } from "./fields.js";

/**
 * The body as the platform delivered it. A body flagged `isBase64Encoded` that is not valid base64 is kept
 * as the text it is: AWS's own HTTP API 1.0 sample did this ("Hello from Lambda!", fixed by
 * awsdocs/amazon-api-gateway-developer-guide PR #104), and decoding it would hand on junk bytes.
 */
export function httpBody(request: FieldReader): HttpEventData["body"] {
  const body = request.record.body;
  if (body === undefined || body === null || body === "") return undefined;
  if (typeof body !== "string") throw request.fail("body", `must be a string, got ${describe(body)}`);
  if (request.record.isBase64Encoded === true && isStrictBase64(body)) return { data: body, encoding: "base64" };
  return { data: body, encoding: "utf8" };
}

const MONTHS: Record<string, string> = {
  Jan: "01",
  Feb: "02",
  Mar: "03",
  Apr: "04",
  May: "05",
  Jun: "06",
  Jul: "07",
  Aug: "08",
  Sep: "09",
  Oct: "10",
  Nov: "11",
  Dec: "12",
};

/** API Gateway's `requestTime`, `17/Jun/2024:14:48:13 +0000`, to ISO 8601 UTC; `undefined` when it is not one. */
export function fromRequestTime(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})$/.exec(value);
  const month = match && MONTHS[match[2] as string];
  if (!match || !month) return undefined;
  const zone = match[7] as string;
  const parsed = Date.parse(`${match[3]}-${month}-${match[1]}T${match[4]}:${match[5]}:${match[6]}${zone.slice(0, 3)}:${zone.slice(3)}`);
  return Number.isFinite(parsed) ? new Date(parsed).toISOString() : undefined;
}

/** The body of a response as Lambda's HTTP integrations take it: bytes go base64 with the flag set. */
export function responseBody(result: HttpResult): { body: string; isBase64Encoded: boolean } {
  return typeof result.body === "string"
    ? { body: result.body, isBase64Encoded: false }
    : { body: Buffer.from(result.body).toString("base64"), isBase64Encoded: true };
}

/** Percent-decodes a query component, `+` as a space, keeping the raw text when an escape is broken. */
export function decodeQueryComponent(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, " "));
  } catch {
    return value;
  }
}

/**
 * What API Gateway REST (and HTTP API 1.0) takes back from a proxy integration; assignable to
 * `APIGatewayProxyResult` from `@types/aws-lambda` (checked in the tests) without depending on it.
 *
 * @example
 * ```ts
 * const answer: ApiGatewayV1Response = { statusCode: 200, headers: {}, body: "ok", isBase64Encoded: false };
 * ```
 */
export interface ApiGatewayV1Response {
  statusCode: number;
  headers: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  body: string;
  isBase64Encoded: boolean;
}

/**
 * What HTTP API 2.0 and function URLs take back (the structured form of `APIGatewayProxyResultV2`).
 *
 * @example
 * ```ts
 * const answer: ApiGatewayV2Response = { statusCode: 200, headers: {}, cookies: ["a=1"], body: "ok", isBase64Encoded: false };
 * ```
 */
export interface ApiGatewayV2Response {
  statusCode: number;
  headers: Record<string, string>;
  cookies?: string[];
  body: string;
  isBase64Encoded: boolean;
}

/**
 * What an ALB takes back from a Lambda target: single-value `headers` or `multiValueHeaders`, as the
 * request came, and a required `statusDescription` (like `ALBResult`).
 *
 * @example
 * ```ts
 * const answer: AlbResponse = { statusCode: 200, statusDescription: "200 OK", headers: {}, body: "", isBase64Encoded: false };
 * ```
 */
export interface AlbResponse {
  statusCode: number;
  statusDescription: string;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
  body: string;
  isBase64Encoded: boolean;
}
