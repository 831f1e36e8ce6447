import { type LambdaOptions, toLambda } from "@sluice/aws";
import { type SensorPipelineConfig, analyzeSensors, configFromEnv, createAnalyzeSensors } from "./function.js";

/**
 * The sensor pipeline on AWS Lambda: S3 (directly, or through EventBridge, SQS or SNS) notifies it of each
 * object under `readings/`; buckets come from SENSOR_RAW_BUCKET, SENSOR_REPORT_BUCKET and
 * SENSOR_QUARANTINE_BUCKET.
 */
export const handler = toLambda(analyzeSensors);

/** The same handler with another S3 client or configuration, e.g. against a local S3 server in tests. */
export function createHandler(options: LambdaOptions = {}, config: SensorPipelineConfig = configFromEnv()) {
  return toLambda(createAnalyzeSensors(config), options);
}
