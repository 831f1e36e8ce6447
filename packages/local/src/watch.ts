import { loadNodeCrypto, nodeCrypto } from "./node-crypto.js";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { ObjectEventData } from "@sluice/core";

/** A file's state as last seen. */
interface Seen {
  size: number;
  mtimeMs: number;
  /** How many scans in a row it has kept this size and time. */
  stableScans: number;
  emitted: boolean;
}

export interface BucketWatcherOptions {
  /** The bucket's directory. */
  directory: string;
  bucket: string;
  /** Milliseconds between scans. Default 100. */
  intervalMs?: number;
  /** Emit `object.created` for files already there when watching starts. Default false, as a cloud would. */
  existing?: boolean;
  onEvent: (event: ObjectEventData) => void;
  onError?: (error: unknown) => void;
}

/**
 * Watches a bucket's directory by scanning it. A file is announced once its size and modification time
 * have held for two scans, so a file still being written by another program is never read half-way;
 * files written through `LocalObjectStore` appear whole, by rename. Polling rather than `fs.watch`
 * because recursive `fs.watch` is unreliable across platforms and Node versions.
 *
 * @example
 * ```ts
 * const watcher = new BucketWatcher({ directory: ".sluice/buckets/sensor-raw", bucket: "sensor-raw", onEvent: console.log }).start();
 * await watcher.close();
 * ```
 */
export class BucketWatcher {
  private readonly seen = new Map<string, Seen>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private scanning: Promise<void> | undefined;
  private firstScan = true;

  constructor(private readonly options: BucketWatcherOptions) {}

  start(): this {
    this.schedule(0);
    return this;
  }

  private schedule(delay: number) {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.scanning = this.scan()
        .catch((error) => this.options.onError?.(error))
        .finally(() => {
          this.scanning = undefined;
          this.schedule(this.options.intervalMs ?? 100);
        });
    }, delay);
  }

  private chain: Promise<void> = Promise.resolve();

  /** Scans once: announces files that became stable and deletions of files that were announced. */
  scan(): Promise<void> {
    // One scan at a time: two overlapping scans would count one quiet interval as two.
    const next = this.chain.then(() => this.scanOnce());
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async scanOnce(): Promise<void> {
    // Event ids are hashes, made synchronously below: have the hash module ready first.
    await loadNodeCrypto();
    const present = new Map<string, { size: number; mtimeMs: number }>();
    await this.walk(this.options.directory, "", present);
    const initial = this.firstScan;
    this.firstScan = false;
    for (const [key, state] of present) {
      const previous = this.seen.get(key);
      if (!previous) {
        // Files present at the first scan count as already announced unless asked otherwise.
        const emitted = initial && !this.options.existing;
        this.seen.set(key, { ...state, stableScans: 0, emitted });
        continue;
      }
      if (previous.size === state.size && previous.mtimeMs === state.mtimeMs) {
        previous.stableScans++;
        if (!previous.emitted && previous.stableScans >= 1) {
          previous.emitted = true;
          this.options.onEvent(this.eventFor("object.created", key, state));
        }
      } else {
        // Changed since last scan: still being written, or overwritten; announce again once stable.
        this.seen.set(key, { ...state, stableScans: 0, emitted: false });
      }
    }
    for (const [key, previous] of this.seen) {
      if (present.has(key)) continue;
      this.seen.delete(key);
      if (previous.emitted) this.options.onEvent(this.eventFor("object.deleted", key, previous));
    }
  }

  private eventFor(kind: "object.created" | "object.deleted", key: string, state: { size: number; mtimeMs: number }): ObjectEventData {
    // The id derives from the object's identity and state, so the same file version always has the same id.
    const id = nodeCrypto()
      .createHash("sha256")
      .update(`${kind}\n${this.options.bucket}\n${key}\n${state.size}\n${state.mtimeMs}`)
      .digest("hex")
      .slice(0, 32);
    const event: ObjectEventData = {
      kind,
      id,
      time: kind === "object.created" ? new Date(state.mtimeMs).toISOString() : new Date().toISOString(),
      bucket: this.options.bucket,
      key,
      provider: "local",
    };
    if (kind === "object.created") event.size = state.size;
    return event;
  }

  private async walk(dir: string, prefix: string, found: Map<string, { size: number; mtimeMs: number }>): Promise<void> {
    const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ENOTDIR") return [];
      throw error;
    });
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await this.walk(path, `${prefix}${entry.name}/`, found);
      else if (entry.isFile()) {
        const stats = await stat(path).catch(() => undefined);
        if (stats) found.set(`${prefix}${entry.name}`, { size: stats.size, mtimeMs: stats.mtimeMs });
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.scanning;
  }
}
