export { toLocal, isLocalFunction } from "./adapter.js";
export type { LocalFunction, LocalOptions, LocalWatch, WatchOptions } from "./adapter.js";
export { LocalObjectStore } from "./storage.js";
export type { LocalObjectStoreOptions } from "./storage.js";
export { fromLocalEvent } from "./triggers/event-file.js";
export type { LocalEventFile } from "./triggers/event-file.js";
export { BucketWatcher } from "./watch.js";
export type { BucketWatcherOptions } from "./watch.js";
