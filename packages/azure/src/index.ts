export { toAzureFunction, MessagesFailedError } from "./adapter.js";
export type { AzureHandler, AzureOptions } from "./adapter.js";
export type { AzureRegistrationOptions, ObjectEventsVia, RetryPolicy } from "./registration.js";
export { BlobObjectStore } from "./storage.js";
export type { BlobObjectStoreOptions } from "./storage.js";
