import { toCloudFunction } from "@sluice/gcp";
import { analyzeSensors, rollUpHourly } from "./function.js";

/**
 * The sensor pipeline on Google Cloud Functions, one function per stage, both registered with the
 * Functions Framework by this module and deployed from it with different entry points:
 *
 *   gcloud functions deploy analyze-sensors --gen2 --runtime=nodejs22 --entry-point=analyze-sensors \
 *     --trigger-event-filters=type=google.cloud.storage.object.v1.finalized \
 *     --trigger-event-filters=bucket=$SENSOR_RAW_BUCKET \
 *     --set-env-vars=SENSOR_RAW_BUCKET=...,SENSOR_REPORT_BUCKET=...,SENSOR_QUARANTINE_BUCKET=...,NODE_ENV=production
 *   gcloud functions deploy roll-up-hourly ... --entry-point=roll-up-hourly \
 *     --trigger-event-filters=bucket=$SENSOR_REPORT_BUCKET ...
 *
 * Eventarc cannot filter by object-name prefix; each function's own prefix filter holds at run time.
 */
export const analyzeSensorsFunction = toCloudFunction(analyzeSensors);
export const rollUpHourlyFunction = toCloudFunction(rollUpHourly);
