export { toAzureFunction, MessagesFailedError } from "./adapter.js";
export type { AzureEventHandler, AzureHandler, AzureHttpHandler, AzureOptions, AzureTimerHandler } from "./adapter.js";
export type { AzureRegistrationOptions, ObjectEventsVia, RetryPolicy } from "./registration.js";
export { BlobObjectStore } from "./storage.js";
export type { BlobObjectStoreOptions } from "./storage.js";
export { AzureMessaging, AzureMessagingConfigurationError, AzureMessagingSdkMissingError } from "./messaging.js";
export type { AzureMessagingOptions, AzureMessagingService } from "./messaging.js";
export type { QueueEnvelopeMode, QueueMessageEncoding } from "./queue-envelope.js";
