export { GcsObjectStore } from "./storage.js";
export type { GcsObjectStoreOptions } from "./storage.js";
