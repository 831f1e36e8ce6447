import { type AwsSource, type Fields, isRecord } from "./triggers/fields.js";
import { isS3TestEvent } from "./triggers/s3.js";

function firstRecord(event: Fields): Fields | undefined {
  const records = event.Records;
  return Array.isArray(records) && isRecord(records[0]) ? records[0] : undefined;
}

function lambdaUrlDomain(event: Fields): boolean {
  const context = event.requestContext;
  const domain = isRecord(context) ? context.domainName : undefined;
  // Function URLs are served from <url-id>.lambda-url.<region>.on.aws (Lambda Developer Guide, "Function URLs").
  return typeof domain === "string" && /\.lambda-url\.[a-z0-9-]+\.on\.aws$/.test(domain);
}

/**
 * The one table that tells native Lambda events apart, each rule with why its field is enough. The rules
 * do not overlap, so order does not matter; a payload no rule matches is a direct invocation.
 */
const RULES: ReadonlyArray<{ source: Exclude<AwsSource, "invoke">; matches: (event: Fields) => boolean }> = [
  // Every S3 notification record says where it came from in camelCase `eventSource` (S3 "Event message structure").
  { source: "s3", matches: (event) => firstRecord(event)?.eventSource === "aws:s3" },
  // SQS records carry `eventSource: "aws:sqs"` (Lambda "Using Lambda with Amazon SQS").
  { source: "sqs", matches: (event) => firstRecord(event)?.eventSource === "aws:sqs" },
  // SNS alone spells the key in PascalCase, `EventSource: "aws:sns"`, so a camelCase check misses it.
  { source: "sns", matches: (event) => firstRecord(event)?.EventSource === "aws:sns" },
  // Kinesis Data Streams records carry `eventSource: "aws:kinesis"`.
  { source: "kinesis", matches: (event) => firstRecord(event)?.eventSource === "aws:kinesis" },
  // EventBridge envelopes name their producer in `source`; S3's is "aws.s3", and only envelopes have `detail-type`.
  { source: "s3-eventbridge", matches: (event) => event.source === "aws.s3" && typeof event["detail-type"] === "string" },
  // Schedule rules send source "aws.events" with this detail-type; `version` is not required (old samples lack it).
  { source: "schedule", matches: (event) => event.source === "aws.events" && event["detail-type"] === "Scheduled Event" },
  // Only a Firehose transformation has both an invocation id and the delivery stream's ARN at the top level.
  {
    source: "firehose",
    matches: (event) =>
      typeof event.invocationId === "string" && typeof event.deliveryStreamArn === "string" && Array.isArray(event.records),
  },
  // An ALB's requestContext holds only `elb`, which no other source has.
  { source: "alb", matches: (event) => isRecord(event.requestContext) && isRecord(event.requestContext.elb) },
  // Payload 2.0 has `version: "2.0"` and `requestContext.http`; a function URL's domain is the only difference.
  {
    source: "function-url",
    matches: (event) =>
      event.version === "2.0" && isRecord(event.requestContext) && isRecord(event.requestContext.http) && lambdaUrlDomain(event),
  },
  {
    source: "apigw-v2",
    matches: (event) =>
      event.version === "2.0" && isRecord(event.requestContext) && isRecord(event.requestContext.http) && !lambdaUrlDomain(event),
  },
  // REST and HTTP API 1.0 put `httpMethod` at the top and the route template in `requestContext.resourcePath`.
  {
    source: "apigw-v1",
    matches: (event) =>
      typeof event.httpMethod === "string" && isRecord(event.requestContext) && typeof event.requestContext.resourcePath === "string",
  },
  // The test message S3 sends when a notification is configured: `Service` and `Event` identify it exactly.
  { source: "s3-test-event", matches: (event) => isS3TestEvent(event) },
  // EventBridge Scheduler sends only the input we define; its `sluice` discriminator is ours (see README).
  { source: "scheduler", matches: (event) => event.sluice === "schedule" },
];

/**
 * Names the native source of a Lambda event, or `"invoke"` when no rule matches (a direct invocation can
 * carry anything).
 *
 * @example
 * ```ts
 * detectSource({ Records: [{ eventSource: "aws:sqs" }] }); // "sqs"
 * detectSource({ day: "2026-11-23" }); // "invoke"
 * ```
 */
export function detectSource(event: unknown): AwsSource {
  if (!isRecord(event)) return "invoke";
  // A loop, not RULES.find: no closure per invocation. The order is the rules' order, as before.
  for (const rule of RULES) if (rule.matches(event)) return rule.source;
  return "invoke";
}

function detector(source: Exclude<AwsSource, "invoke">): (event: unknown) => boolean {
  const rule = RULES.find((candidate) => candidate.source === source) as (typeof RULES)[number];
  return (event) => isRecord(event) && rule.matches(event);
}

/**
 * One detector per native source, each the rule of the detection table for that source.
 *
 * @example
 * ```ts
 * if (detectors.isSqs(event)) console.log("an SQS batch");
 * ```
 */
export const detectors = {
  isS3Notification: detector("s3"),
  isS3TestEvent: detector("s3-test-event"),
  isS3EventBridge: detector("s3-eventbridge"),
  isSqs: detector("sqs"),
  isSns: detector("sns"),
  isKinesis: detector("kinesis"),
  isFirehose: detector("firehose"),
  isApiGatewayV1: detector("apigw-v1"),
  isApiGatewayV2: detector("apigw-v2"),
  isFunctionUrl: detector("function-url"),
  isAlb: detector("alb"),
  isScheduledEvent: detector("schedule"),
  isSchedulerInput: detector("scheduler"),
} as const;
