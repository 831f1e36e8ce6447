import { toCloudFunction } from "@sluice/gcp";
import { analyzeSensors } from "./function.js";

/**
 * The sensor pipeline on Google Cloud Functions: registered with the Functions Framework as
 * `analyze-sensors`, for an Eventarc trigger on the raw bucket's `finalized` events:
 *
 *   gcloud functions deploy analyze-sensors --gen2 --runtime=nodejs22 --entry-point=analyze-sensors \
 *     --trigger-event-filters=type=google.cloud.storage.object.v1.finalized \
 *     --trigger-event-filters=bucket=$SENSOR_RAW_BUCKET \
 *     --set-env-vars=SENSOR_REPORT_BUCKET=...,SENSOR_QUARANTINE_BUCKET=...,NODE_ENV=production
 *
 * Eventarc cannot filter by object-name prefix; the function's own `readings/` filter holds at run time.
 */
export default toCloudFunction(analyzeSensors);
