import { loadNodeCrypto, randomId } from "./node-crypto.js";
import { createReadStream, createWriteStream } from "node:fs";
import { link, mkdir, readFile, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import {
  InvalidKeyError,
  ObjectNotFoundError,
  type ListOptions,
  type ObjectBody,
  type ObjectInfo,
  type ObjectStore,
  type PutOptions,
} from "@sluice/core";

/** Where the store keeps what a file cannot hold itself (content type, metadata, etag), beside the buckets. */
const META_DIR = ".sluice-meta";
/** Writes go here first and are renamed into place, so no reader ever sees half a file. */
const TEMP_DIR = ".sluice-tmp";

const BUCKET_NAME = /^[a-z0-9][a-z0-9._-]{1,62}$/;

interface Sidecar {
  etag: string;
  size: number;
  mtimeMs: number;
  contentType?: string;
  metadata?: Record<string, string>;
}

export interface LocalObjectStoreOptions {
  /** The directory that holds one directory per bucket. */
  root: string;
}

/**
 * `node:stream` and `node:stream/promises`, loaded on the first read or write rather than at import: they
 * were about 4 ms of a cold `toLocal` import on a 2-vCPU machine (issue 7), and a function that only
 * answers HTTP or schedules never needs them.
 */
let nodeStreams:
  | Promise<{
      Readable: typeof import("node:stream").Readable;
      Transform: typeof import("node:stream").Transform;
      pipeline: typeof import("node:stream/promises").pipeline;
    }>
  | undefined;
function loadNodeStreams() {
  nodeStreams ??= Promise.all([import("node:stream"), import("node:stream/promises")]).then(([stream, promises]) => ({
    Readable: stream.Readable,
    Transform: stream.Transform,
    pipeline: promises.pipeline,
  }));
  return nodeStreams;
}

/**
 * An `ObjectStore` on the filesystem: a directory per bucket, a file per key. Keys that would escape
 * their bucket's directory (`..` segments, absolute paths, NUL, backslashes) are refused with
 * `InvalidKeyError`; writes are atomic (temporary file, then rename).
 *
 * @example
 * ```ts
 * const store = new LocalObjectStore({ root: ".sluice/buckets" });
 * await store.put("sensor-raw", "readings/a.ndjson", '{"sensor":"s-001"}\n');
 * ```
 */
export class LocalObjectStore implements ObjectStore {
  readonly root: string;

  constructor(options: LocalObjectStoreOptions) {
    this.root = resolve(options.root);
  }

  /** The file that holds `bucket`/`key`, after checking that it stays inside the bucket's directory. */
  pathOf(bucket: string, key: string): string {
    const bucketDir = this.bucketPath(bucket);
    if (typeof key !== "string" || key === "") throw new InvalidKeyError(bucket, String(key), "a key must be a non-empty string");
    if (key.includes("\0")) throw new InvalidKeyError(bucket, key, "contains a NUL character");
    if (key.includes("\\")) throw new InvalidKeyError(bucket, key, "contains a backslash");
    if (key.startsWith("/")) throw new InvalidKeyError(bucket, key, "is an absolute path");
    const segments = key.split("/");
    if (segments.some((segment) => segment === ".." || segment === ".")) {
      throw new InvalidKeyError(bucket, key, "contains a '.' or '..' segment");
    }
    if (segments.some((segment) => segment === ""))
      throw new InvalidKeyError(bucket, key, "contains an empty segment ('//' or a trailing '/')");
    // S3's limit, which the other clouds exceed; a longer key could not be carried to every cloud anyway.
    if (Buffer.byteLength(key) > 1024) throw new InvalidKeyError(bucket, key.slice(0, 64), "is longer than 1024 bytes");
    // A file name longer than the filesystem allows would fail deep inside fs with ENAMETOOLONG.
    if (segments.some((segment) => Buffer.byteLength(segment) > 255)) {
      throw new InvalidKeyError(bucket, key.slice(0, 64), "has a segment longer than 255 bytes, more than a file name may hold");
    }
    const path = resolve(bucketDir, key);
    if (!path.startsWith(bucketDir + sep)) throw new InvalidKeyError(bucket, key, "resolves outside the bucket");
    return path;
  }

  /** The directory of a bucket. Bucket names follow S3's rules, which every cloud accepts. */
  bucketPath(bucket: string): string {
    if (typeof bucket !== "string" || !BUCKET_NAME.test(bucket) || bucket.includes("..")) {
      throw new InvalidKeyError(String(bucket), "", "bucket names are 2-63 lower-case letters, digits, '.', '_' or '-'");
    }
    return join(this.root, bucket);
  }

  private sidecarPath(bucket: string, key: string): string {
    this.pathOf(bucket, key);
    return join(this.root, META_DIR, bucket, `${key}.json`);
  }

  async get(bucket: string, key: string): Promise<ReadableStream<Uint8Array>> {
    const path = this.pathOf(bucket, key);
    const { Readable } = await loadNodeStreams();
    const stream = createReadStream(path);
    // Open eagerly so that a missing object rejects here, not on first read.
    await new Promise<void>((resolveOpen, rejectOpen) => {
      stream.once("open", () => resolveOpen());
      stream.once("error", (error: NodeJS.ErrnoException) =>
        rejectOpen(error.code === "ENOENT" || error.code === "EISDIR" ? new ObjectNotFoundError(bucket, key, { cause: error }) : error),
      );
    });
    return Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>;
  }

  async put(bucket: string, key: string, body: ObjectBody, options: PutOptions = {}): Promise<{ etag?: string }> {
    const path = this.pathOf(bucket, key);
    const tempDir = join(this.root, TEMP_DIR);
    await mkdir(tempDir, { recursive: true });
    await mkdir(dirname(path), { recursive: true });
    const temp = join(tempDir, randomId());
    const { Readable, Transform, pipeline } = await loadNodeStreams();
    const hash = (await loadNodeCrypto()).createHash("md5");
    let size = 0;
    const source =
      typeof body === "string" || body instanceof Uint8Array
        ? Readable.from([typeof body === "string" ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength)])
        : Readable.fromWeb(body as import("node:stream/web").ReadableStream<Uint8Array>);
    const measure = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        hash.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    try {
      await pipeline(source, measure, createWriteStream(temp));
      const etag = hash.digest("hex");
      await rename(temp, path);
      const { mtimeMs } = await stat(path);
      const sidecar: Sidecar = { etag, size, mtimeMs };
      if (options.contentType) sidecar.contentType = options.contentType;
      if (options.metadata) sidecar.metadata = lowerCaseKeys(options.metadata);
      const sidecarPath = this.sidecarPath(bucket, key);
      await mkdir(dirname(sidecarPath), { recursive: true });
      await writeFile(sidecarPath, JSON.stringify(sidecar));
      return { etag };
    } finally {
      await rm(temp, { force: true });
    }
  }

  async putIfAbsent(bucket: string, key: string, body: string | Uint8Array, options: PutOptions = {}): Promise<boolean> {
    const path = this.pathOf(bucket, key);
    const tempDir = join(this.root, TEMP_DIR);
    await mkdir(tempDir, { recursive: true });
    await mkdir(dirname(path), { recursive: true });
    const temp = join(tempDir, randomId());
    const bytes = typeof body === "string" ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    try {
      await writeFile(temp, bytes);
      // link(2) fails with EEXIST when the name is taken: an atomic create-if-absent, whole content included.
      await link(temp, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw error;
    } finally {
      await rm(temp, { force: true });
    }
    const { mtimeMs } = await stat(path);
    const sidecar: Sidecar = { etag: (await loadNodeCrypto()).createHash("md5").update(bytes).digest("hex"), size: bytes.length, mtimeMs };
    if (options.contentType) sidecar.contentType = options.contentType;
    if (options.metadata) sidecar.metadata = lowerCaseKeys(options.metadata);
    const sidecarPath = this.sidecarPath(bucket, key);
    await mkdir(dirname(sidecarPath), { recursive: true });
    await writeFile(sidecarPath, JSON.stringify(sidecar));
    return true;
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    const path = this.pathOf(bucket, key);
    const stats = await stat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT" || error.code === "ENOTDIR") return undefined;
      throw error;
    });
    if (!stats?.isFile()) return undefined;
    return this.infoOf(bucket, key, stats.size, stats.mtimeMs);
  }

  private async infoOf(bucket: string, key: string, size: number, mtimeMs: number): Promise<ObjectInfo> {
    const sidecar = await readFile(this.sidecarPath(bucket, key), "utf8")
      .then((text) => JSON.parse(text) as Sidecar)
      .catch(() => undefined);
    // A sidecar describes the file only if the file has not changed since (a file copied in by hand has none).
    const current = sidecar && sidecar.size === size && sidecar.mtimeMs === mtimeMs ? sidecar : undefined;
    const info: ObjectInfo = {
      key,
      size,
      etag: current?.etag ?? `${Math.floor(mtimeMs).toString(16)}-${size.toString(16)}`,
      lastModified: new Date(mtimeMs).toISOString(),
    };
    if (current?.contentType) info.contentType = current.contentType;
    if (current?.metadata) info.metadata = current.metadata;
    return info;
  }

  async *list(bucket: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    const bucketDir = this.bucketPath(bucket);
    const prefix = options.prefix ?? "";
    const keys: Array<{ key: string; size: number; mtimeMs: number }> = [];
    const walk = async (dir: string, keyPrefix: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return [];
        throw error;
      });
      for (const entry of entries) {
        const key = keyPrefix + entry.name;
        if (entry.isDirectory()) {
          // Only descend where keys under the prefix can be.
          const dirKey = `${key}/`;
          if (dirKey.startsWith(prefix) || prefix.startsWith(dirKey)) await walk(join(dir, entry.name), dirKey);
        } else if (entry.isFile() && key.startsWith(prefix)) {
          const stats = await stat(join(dir, entry.name)).catch(() => undefined);
          if (stats) keys.push({ key, size: stats.size, mtimeMs: stats.mtimeMs });
        }
      }
    };
    await walk(bucketDir, "");
    keys.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    for (const { key, size, mtimeMs } of keys) yield await this.infoOf(bucket, key, size, mtimeMs);
  }

  async delete(bucket: string, key: string): Promise<void> {
    const path = this.pathOf(bucket, key);
    await rm(path, { force: true });
    await rm(this.sidecarPath(bucket, key), { force: true });
  }

  /** Creates a bucket's directory (clouds need buckets created ahead; so does this store). */
  async createBucket(bucket: string): Promise<void> {
    await mkdir(this.bucketPath(bucket), { recursive: true });
  }
}

function lowerCaseKeys(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([name, value]) => [name.toLowerCase(), value]));
}
