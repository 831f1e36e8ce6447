export { createRuntime, HOPS_METADATA, matchHttpRoute } from "./run.js";
export type { FunctionRuntime, InvocationInfo, Outcome, RuntimeOptions } from "./run.js";
export { httpErrorResult, isHttpResponseInit, isTextual, toHttpResult } from "./http-response.js";
export type { HttpResponseInit, HttpResult } from "./http-response.js";
export { concatBytes, maybeGunzip, readAllBytes, splitJsonRecords, splitLines, DEFAULT_MAX_LINE_LENGTH } from "./lines.js";
export { withHttpReaders, withMessageReaders, withObjectReaders, DEFAULT_MAX_HTTP_BODY_BYTES } from "./readers.js";
