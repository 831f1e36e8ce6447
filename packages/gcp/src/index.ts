export { toCloudFunction } from "./adapter.js";
export type { CloudEventHandler, CloudFunctionHandler, CloudFunctionOptions, GcpSignature, HttpHandler } from "./adapter.js";
export { GcsObjectStore } from "./storage.js";
export type { GcsObjectStoreOptions } from "./storage.js";
