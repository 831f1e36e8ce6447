export { toLambda } from "./adapter.js";
export type {
  FirehoseTransformationResponse,
  LambdaBatchResponse,
  LambdaContextLike,
  LambdaHandler,
  LambdaOptions,
  MessageTransformResult,
} from "./adapter.js";
export { AwsMessaging, AwsMessagingError, CLAIM_CHECK_FIELD, SQS_BODY_ENCODING_ATTRIBUTE } from "./messaging.js";
export type { AwsClientLike, AwsMessagingOptions, AwsMessagingService, AwsStreamService } from "./messaging.js";
export { S3ObjectStore } from "./storage.js";
export type { S3ObjectStoreOptions } from "./storage.js";
export { detectSource, detectors } from "./detect.js";
export type { AwsSource } from "./triggers/fields.js";
export type { MessageBatch } from "./triggers/batch.js";
export type { ObjectItem } from "./triggers/s3.js";
export { decodeS3Key, fromS3Notification, isS3TestEvent } from "./triggers/s3.js";
export { fromS3EventBridge } from "./triggers/s3-eventbridge.js";
export { fromSqsMessages, fromSqsObjectEvents } from "./triggers/sqs.js";
export type { SqsObjectMessage } from "./triggers/sqs.js";
export { fromSnsMessages, fromSnsObjectEvents } from "./triggers/sns.js";
export { fromKinesis } from "./triggers/kinesis.js";
export { fromFirehose } from "./triggers/firehose.js";
export { fromApiGatewayV1, toApiGatewayV1Response } from "./triggers/http-v1.js";
export { fromApiGatewayV2, toApiGatewayV2Response } from "./triggers/http-v2.js";
export { fromAlb, isAlbHealthCheck, toAlbResponse } from "./triggers/alb.js";
export { fromInvoke, fromScheduledEvent, fromSchedulerInput, schedulerInputTemplate } from "./triggers/schedule.js";
export type { SchedulerInput } from "./triggers/schedule.js";
export type { AlbResponse, ApiGatewayV1Response, ApiGatewayV2Response } from "./triggers/http.js";
