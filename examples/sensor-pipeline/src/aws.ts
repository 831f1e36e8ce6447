import { type LambdaOptions, toLambda } from "@sluice/aws";
import {
  type SensorPipelineConfig,
  analyzeSensors,
  configFromEnv,
  createAnalyzeSensors,
  createRollUpHourly,
  rollUpHourly,
} from "./function.js";

/**
 * The sensor pipeline on AWS Lambda, one function per stage. `handler` analyses each object under
 * `readings/` that S3 (directly, or through EventBridge, SQS or SNS) announces; `rollUpHandler` is a second
 * Lambda, notified of the reports it writes, that rolls them up per hour. Buckets come from
 * SENSOR_RAW_BUCKET, SENSOR_REPORT_BUCKET and SENSOR_QUARANTINE_BUCKET.
 */
export const handler = toLambda(analyzeSensors);
export const rollUpHandler = toLambda(rollUpHourly);

/** Both handlers with another S3 client or configuration, e.g. against a local S3 server in tests. */
export function createHandlers(options: LambdaOptions = {}, config: SensorPipelineConfig = configFromEnv()) {
  return { analyze: toLambda(createAnalyzeSensors(config), options), rollUp: toLambda(createRollUpHourly(config), options) };
}
