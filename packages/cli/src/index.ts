export { main } from "./cli.js";
export type { CliIo } from "./cli.js";
export { loadEntry } from "./load-entry.js";
export type { EntryFunction } from "./load-entry.js";
export { serveHttp } from "./http-server.js";
export { defaultCheckpoint, openReplaySource, replay } from "./replay.js";
export type { ReplayOptions, ReplaySource, ReplaySummary } from "./replay.js";
export { buildFunction } from "./build.js";
export type { BuildOptions, BuildResult, BuildTarget, BuiltFile } from "./build.js";
