export { BUCKETS, s3rverClient, startS3rver } from "./s3rver.js";
export { type GcsEmulator, startGcsEmulator } from "./gcs-emulator.js";
export { AZURITE_ACCOUNT_KEY, AZURITE_ACCOUNT_NAME, type RunningAzurite, startAzurite } from "./azurite.js";
export { blobCreatedEvent, finalizedCloudEventRequest } from "./events.js";
export { type RunningAzuriteQueue, startAzuriteQueue } from "./azurite-queue.js";
export {
  type EventHubsProtocolServer,
  type EventHubsProtocolServerOptions,
  type ReceivedEvent,
  startEventHubsProtocolServer,
} from "./event-hubs-amqp.js";
export {
  ALLOW_MISSING_PUBSUB_EMULATOR,
  findPubsubEmulator,
  type PubsubEmulator,
  pubsubEmulatorSkipReason,
  startPubsubEmulator,
} from "./pubsub-emulator.js";
export { type PublishedMessage, type StorageNotificationEventType, storageNotification } from "./storage-notifications.js";
export { type Kinesalite, type KinesisRequestRecord, startKinesalite } from "./kinesalite.js";
export { type SqsServer, startSqsServer } from "./sqs-server.js";
export { type FirehoseRecord, type FirehoseServer, startFirehoseServer } from "./firehose-server.js";
