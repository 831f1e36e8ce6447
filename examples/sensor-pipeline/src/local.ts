import { toLocal } from "@sluice/local";
import { analyzeSensors } from "./function.js";

/** The sensor pipeline on this machine: `sluice dev src/local.ts` watches `.sluice/buckets/sensor-raw`. */
export default toLocal(analyzeSensors);
