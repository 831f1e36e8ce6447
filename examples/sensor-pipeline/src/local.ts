import { createSensorPipeline } from "./function.js";

/**
 * The sensor pipeline on this machine: `sluice dev src/local.ts` runs both stages, the analysis watching
 * `.sluice/buckets/sensor-raw` and the hourly roll-up watching the reports it writes.
 */
export const sensorPipeline = createSensorPipeline();
