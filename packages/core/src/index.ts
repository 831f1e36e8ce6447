export { defineFunction, isSluiceFunction } from "./function.js";
export type { EventDataOf, FunctionDefinition, SluiceFunction } from "./function.js";
export { triggers } from "./triggers.js";
export type {
  EventOf,
  HttpTrigger,
  HttpTriggerOptions,
  InvokeTrigger,
  MessagesTrigger,
  MessagesTriggerOptions,
  ObjectCreatedTrigger,
  ObjectDeletedTrigger,
  ObjectTriggerOptions,
  ScheduleTrigger,
  ScheduleTriggerOptions,
  Trigger,
} from "./triggers.js";
export { destinations, serializeResult } from "./destinations.js";
export type {
  CustomDestination,
  Destination,
  DestinationArgs,
  DestinationEvent,
  DefaultKeyArgs,
  FailureRecord,
  FailureReport,
  MessageDestination,
  MessageDestinationOptions,
  ObjectStoreDestination,
  ObjectStoreDestinationOptions,
} from "./destinations.js";
export type {
  HttpBodyReaders,
  HttpEvent,
  HttpEventData,
  InvokeEvent,
  LinesOptions,
  Message,
  MessageData,
  MessagesEvent,
  MessagesEventData,
  NeutralEvent,
  NeutralEventData,
  NumberedLine,
  ObjectBodyReaders,
  ObjectCreatedEvent,
  ObjectDeletedEvent,
  ObjectEventData,
  ScheduleEvent,
} from "./events.js";
export { createLogger, silentLogger } from "./context.js";
export type { Context, LogLevel, Logger, LoggerOptions, QuarantineItem } from "./context.js";
export {
  ConfigurationError,
  EventTranslationError,
  HttpError,
  InvalidKeyError,
  ObjectNotFoundError,
  SluiceError,
  StorageError,
  TimeoutError,
  serializeError,
} from "./errors.js";
export type { ProviderName, SerializedError } from "./errors.js";
export type { ListOptions, ObjectBody, ObjectInfo, ObjectStore, PutOptions } from "./store.js";
export { epochToIsoTime, isoTimeFromMillis, normalizeIsoTime } from "./time.js";
export * from "./runtime/index.js";
export { headersFromPairs, queryFromPairs } from "./http-query.js";
export { objectStoreIdempotency, once } from "./idempotency.js";
export type { IdempotencyStore } from "./idempotency.js";
export { definePipeline, isPipeline } from "./pipeline.js";
export type { Pipeline } from "./pipeline.js";
export { cronFireTimes, cronMatches, parseCron, toCloudSchedulerCron, toEventBridgeCron, toNcrontab } from "./cron.js";
export type { ParsedCron } from "./cron.js";
export {
  CLAIM_CHECK_ATTRIBUTE,
  HOPS_ATTRIBUTE,
  MessageDeliveryError,
  defaultMessageSize,
  messageBody,
  planBatches,
  sendAll,
} from "./messaging.js";
export type {
  ClaimCheck,
  MessageLimits,
  MessageSendFailure,
  MessageSender,
  MessageTarget,
  OutgoingMessage,
  SendAllOptions,
} from "./messaging.js";
