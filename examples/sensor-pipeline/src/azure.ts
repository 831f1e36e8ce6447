import { toAzureFunction } from "@sluice/azure";
import { analyzeSensors } from "./function.js";

/**
 * The sensor pipeline on Azure Functions: Event Grid's BlobCreated events for the `sensor-raw` container
 * run the analysis; reports and quarantined lines go to Blob storage through the account in the
 * `AzureWebJobsStorage` setting. Point an Event Grid subscription (Blob Created, subject begins with
 * `/blobServices/default/containers/sensor-raw/blobs/readings/`) at this function.
 */
export default toAzureFunction(analyzeSensors);
