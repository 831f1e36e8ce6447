import { toAzureFunction } from "@sluice/azure";
import { analyzeSensors, rollUpHourly } from "./function.js";

/**
 * The sensor pipeline on Azure Functions: both stages in one Function App, each registered with
 * `app.eventGrid`. Reports, roll-ups and quarantined lines go to Blob storage through the account in the
 * `AzureWebJobsStorage` setting. Two Event Grid subscriptions (event type Blob Created) feed them:
 * subject begins with `/blobServices/default/containers/sensor-raw/blobs/readings/` → `analyze-sensors`,
 * and `/blobServices/default/containers/sensor-reports/blobs/reports/readings/` → `roll-up-hourly`.
 */
export const analyze = toAzureFunction(analyzeSensors);
export const rollUp = toAzureFunction(rollUpHourly);
export default analyze;
