export { main } from "./cli.js";
export type { CliIo } from "./cli.js";
export { loadEntry } from "./load-entry.js";
export type { EntryFunction } from "./load-entry.js";
export { serveHttp } from "./http-server.js";
