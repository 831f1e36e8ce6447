export { toCloudFunction } from "./adapter.js";
export type { CloudEventHandler, CloudFunctionHandler, CloudFunctionOptions, GcpSignature, HttpHandler } from "./adapter.js";
export { GcsObjectStore } from "./storage.js";
export type { GcsObjectStoreOptions } from "./storage.js";
export type { StorageCloudEvent, StorageObjectData } from "./triggers/storage-cloudevent.js";
export type { StorageNotificationAttributes } from "./triggers/storage-pubsub.js";
export type { MessagePublishedCloudEvent, PubsubMessage } from "./triggers/pubsub.js";
export type { PubsubPushBody } from "./triggers/pubsub-push.js";
export type { GcpHttpRequest } from "./triggers/http.js";
