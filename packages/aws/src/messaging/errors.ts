import { SluiceError } from "@sluice/core";

/**
 * The AWS services a stream or queue destination sends to.
 *
 * @example
 * ```ts
 * new AwsMessaging().service({ kind: "queue", name: "alerts" }); // "sqs"
 * ```
 */
export type AwsMessagingService = "sqs" | "firehose" | "kinesis";

/**
 * A stream or queue destination on AWS cannot send: the service's SDK is not installed, the queue or
 * stream does not exist, a setting is missing or out of range, or the service refused a message for
 * good. It names the service, the field and why; the SDK's error, if any, is the `cause`.
 *
 * @example
 * ```ts
 * if (error instanceof AwsMessagingError) console.log(error.service, error.field, error.reason);
 * ```
 */
export class AwsMessagingError extends SluiceError {
  readonly provider = "aws" as const;
  readonly service: AwsMessagingService;
  /** The offending field: `"QueueUrl"`, `"MessageAttributes"`, `"PartitionKey"`, an option name… */
  readonly field: string;
  readonly reason: string;

  constructor(details: { service: AwsMessagingService; field: string; reason: string; cause?: unknown }) {
    super("AWS_MESSAGING", `[aws/${details.service}] ${details.field}: ${details.reason}`, { cause: details.cause });
    this.service = details.service;
    this.field = details.field;
    this.reason = details.reason;
  }
}

const PACKAGES: Record<AwsMessagingService, { name: string; what: string }> = {
  sqs: { name: "@aws-sdk/client-sqs", what: "SQS queues" },
  firehose: { name: "@aws-sdk/client-firehose", what: "Data Firehose streams" },
  kinesis: { name: "@aws-sdk/client-kinesis", what: "Kinesis data streams" },
};

/**
 * Imports a service's SDK on first use. The specifier is not a literal on purpose: bundlers leave the
 * import to run time, so a function that sends to no stream or queue bundles none of these SDKs (issue
 * #7 counts Sluice's share of the bundle), and the Lambda Node.js runtime, which ships AWS SDK v3,
 * provides them when a function does.
 */
export async function loadSdk<T>(service: AwsMessagingService, name = PACKAGES[service].name): Promise<T> {
  const { what } = PACKAGES[service];
  try {
    return (await import(/* @vite-ignore */ name)) as T;
  } catch (cause) {
    const code = (cause as { code?: unknown })?.code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new AwsMessagingError({ service, field: "sdk", reason: `install ${name} to send to ${what}`, cause });
    }
    throw cause;
  }
}
