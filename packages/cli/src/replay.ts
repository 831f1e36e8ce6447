import { createHash } from "node:crypto";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import {
  ConfigurationError,
  type Logger,
  type ObjectEventData,
  type ObjectInfo,
  type ObjectStore,
  type Outcome,
  type SluiceFunction,
  type Trigger,
  createRuntime,
} from "@sluice/core";
import { LocalObjectStore } from "@sluice/local";

/** Where objects to replay live: a store, a bucket in it, and a key prefix. */
export interface ReplaySource {
  store: ObjectStore;
  bucket: string;
  prefix: string;
  /** What the source was given as, for messages and the checkpoint's name. */
  label: string;
}

export interface ReplayOptions {
  /** Only objects whose key starts with this (added to the source's own prefix). */
  prefix?: string;
  /** Only objects modified at or after this time. */
  since?: Date;
  /** Only objects modified before this time. */
  until?: Date;
  /** How many objects run at once. Default 4. */
  concurrency?: number;
  /** List what would run, run nothing. */
  dryRun?: boolean;
  /** File that records finished objects, so an interrupted replay continues where it stopped. */
  checkpoint?: string;
  /** Called as objects finish: done so far, how many in all. */
  onProgress?: (done: number, total: number) => void;
  log: Logger;
}

export interface ReplaySummary {
  objects: number;
  skippedByCheckpoint: number;
  ok: number;
  ignored: number;
  routed: number;
  failed: Array<{ key: string; error: string }>;
  dryRun: boolean;
}

/**
 * Opens a replay source from what the user typed. A local path is a bucket's directory (its parent is
 * the store's root); cloud URLs are resolved by `openCloudSource` when the provider package is installed.
 *
 * @example
 * ```ts
 * const source = await openReplaySource("s3://acme-sensor-raw/readings/");
 * ```
 */
export async function openReplaySource(from: string): Promise<ReplaySource> {
  const cloud = /^(s3|gs|azblob):\/\/([^/]+)\/?(.*)$/.exec(from);
  if (cloud) return openCloudSource(cloud[1] as "s3" | "gs" | "azblob", cloud[2] as string, cloud[3] ?? "", from);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(from))
    throw new ConfigurationError(`cannot replay from ${from}: use s3://, gs://, azblob:// or a local directory`);
  const bucketDir = resolve(from);
  return { store: new LocalObjectStore({ root: dirname(bucketDir) }), bucket: basename(bucketDir), prefix: "", label: from };
}

/** Cloud sources need their provider's package; it is loaded only when such a URL is given. */
async function openCloudSource(scheme: "s3" | "gs" | "azblob", bucket: string, prefix: string, label: string): Promise<ReplaySource> {
  const packages = {
    s3: ["@sluice/aws", "S3ObjectStore"],
    gs: ["@sluice/gcp", "GcsObjectStore"],
    azblob: ["@sluice/azure", "BlobObjectStore"],
  } as const;
  const [name, exportName] = packages[scheme];
  let module: Record<string, unknown>;
  try {
    module = (await import(name)) as Record<string, unknown>;
  } catch (cause) {
    throw new ConfigurationError(`replaying from ${scheme}:// needs ${name}: install it next to @sluice/cli`, { cause });
  }
  const Store = module[exportName] as (new (options?: object) => ObjectStore) | undefined;
  if (typeof Store !== "function") throw new ConfigurationError(`${name} does not export ${exportName}`);
  // Each store finds its credentials and endpoint the way its SDK does (environment, emulator variables).
  return { store: new Store({}), bucket, prefix, label };
}

/**
 * The checkpoint file's default name: one per function and source, so replays of different things never mix.
 *
 * @example
 * ```ts
 * defaultCheckpoint(fn, source, "readings/"); // .sluice/replay/analyze-sensors-<hash>.ndjson
 * ```
 */
export function defaultCheckpoint(fn: SluiceFunction, source: ReplaySource, prefix: string): string {
  const id = createHash("sha256").update(`${fn.name}\n${source.label}\n${prefix}`).digest("hex").slice(0, 16);
  return join(".sluice", "replay", `${fn.name}-${id}.ndjson`);
}

/**
 * Runs a function over objects that already exist, as synthetic `object.created` events through the same
 * runtime as live events: same filters, destinations, quarantine and output keys, so replaying work that
 * was already done rewrites identical outputs. Finished objects are appended to a checkpoint file as they
 * finish, so an interrupted replay picks up where it stopped.
 *
 * @example
 * ```ts
 * const summary = await replay(fn, await openReplaySource(".sluice/buckets/sensor-raw"), { log: createLogger() });
 * console.log(summary.ok, summary.failed.length);
 * ```
 */
export async function replay(fn: SluiceFunction, source: ReplaySource, options: ReplayOptions): Promise<ReplaySummary> {
  const trigger = fn.trigger as Trigger;
  if (trigger.kind !== "object.created")
    throw new ConfigurationError(`function ${fn.name} is triggered by ${trigger.kind}; replay needs an object.created trigger`);
  const prefix = source.prefix + (options.prefix ?? "");
  const checkpoint = options.checkpoint ?? defaultCheckpoint(fn, source, prefix);
  const done = new Set<string>();
  const previous = await readFile(checkpoint, "utf8").catch(() => "");
  for (const line of previous.split("\n")) {
    if (line.trim() === "") continue;
    try {
      done.add((JSON.parse(line) as { key: string }).key);
    } catch {
      // A line cut short by an interruption: that object simply runs again.
    }
  }

  const candidates: ObjectInfo[] = [];
  for await (const info of source.store.list(source.bucket, { prefix })) {
    const modified = info.lastModified ? Date.parse(info.lastModified) : undefined;
    if (options.since && modified !== undefined && modified < options.since.getTime()) continue;
    if (options.until && modified !== undefined && modified >= options.until.getTime()) continue;
    candidates.push(info);
  }
  const todo = candidates.filter((info) => !done.has(info.key));
  const summary: ReplaySummary = {
    objects: candidates.length,
    skippedByCheckpoint: candidates.length - todo.length,
    ok: 0,
    ignored: 0,
    routed: 0,
    failed: [],
    dryRun: options.dryRun ?? false,
  };
  if (options.dryRun) return summary;

  await mkdir(dirname(checkpoint), { recursive: true });
  const provider = source.store instanceof LocalObjectStore ? "local" : providerOf(source.label);
  const runtime = createRuntime(fn, { provider, store: source.store, log: options.log });
  let finished = 0;
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const info = todo[next++] as ObjectInfo;
      const event: ObjectEventData = {
        kind: "object.created",
        // The id derives from the object's identity and version, as a redelivered cloud event keeps its id.
        id: `replay:${createHash("sha256")
          .update(`${source.bucket}\n${info.key}\n${info.etag ?? ""}`)
          .digest("hex")
          .slice(0, 32)}`,
        time: info.lastModified ?? new Date().toISOString(),
        bucket: source.bucket,
        key: info.key,
        size: info.size,
        provider,
      };
      if (info.etag) event.etag = info.etag;
      if (info.contentType) event.contentType = info.contentType;
      let outcome: Outcome;
      try {
        outcome = await runtime.dispatch(event, { invocationId: event.id, nativeEvent: event });
      } catch (error) {
        outcome = { status: "failed", error };
      }
      if (outcome.status === "failed") {
        summary.failed.push({ key: info.key, error: outcome.error instanceof Error ? outcome.error.message : String(outcome.error) });
      } else {
        if (outcome.status === "ok") summary.ok++;
        else if (outcome.status === "ignored") summary.ignored++;
        else if (outcome.status === "routed") summary.routed++;
        // Only what finished is recorded: a failed object runs again next time.
        await appendFile(checkpoint, `${JSON.stringify({ key: info.key, status: outcome.status })}\n`);
      }
      finished++;
      options.onProgress?.(finished, todo.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, todo.length)) }, worker));
  return summary;
}

function providerOf(label: string): "aws" | "gcp" | "azure" | "local" {
  if (label.startsWith("s3://")) return "aws";
  if (label.startsWith("gs://")) return "gcp";
  if (label.startsWith("azblob://")) return "azure";
  return "local";
}
