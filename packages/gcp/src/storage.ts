import { createRequire } from "node:module";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ListOptions, ObjectBody, ObjectInfo, ObjectStore, PutOptions } from "@sluice/core";
import { ObjectNotFoundError, StorageError, normalizeIsoTime } from "@sluice/core";
import type { File, Storage, StorageOptions } from "@google-cloud/storage";

type CloudStorage = typeof import("@google-cloud/storage");

// The SDK is loaded on first use, not at import: `@google-cloud/storage` takes over 100 ms to import here
// (BENCHMARKS.md, cold start), which a function that never touches the store should not pay on every cold
// start. `@sluice/azure` does the same with `@azure/storage-blob`.
let cloudStorage: CloudStorage | undefined;
let loadingCloudStorage: Promise<CloudStorage> | undefined;

function loadCloudStorage(): Promise<CloudStorage> {
  loadingCloudStorage ??= import("@google-cloud/storage").then((module) => {
    cloudStorage = module;
    return module;
  });
  return loadingCloudStorage;
}

/** For the synchronous `storage` getter only, when it is read before any operation has loaded the SDK. */
function requireCloudStorage(): CloudStorage {
  cloudStorage ??= createRequire(import.meta.url)("@google-cloud/storage") as CloudStorage;
  return cloudStorage;
}

/**
 * Options for {@link GcsObjectStore}.
 *
 * @example
 * ```ts
 * const options: GcsObjectStoreOptions = { storageOptions: { projectId: "sluice-demo" }, pageSize: 500 };
 * ```
 */
export interface GcsObjectStoreOptions {
  /**
   * The Cloud Storage client to use (tests pass one pointed at the emulator with `apiEndpoint`).
   * Default: `new Storage(storageOptions)`, created on first use so that an HTTP function that never
   * touches storage never looks for credentials.
   */
  storage?: Storage;
  /** Options for the default client. Ignored when `storage` is given. */
  storageOptions?: StorageOptions;
  /** Objects per list request. Default 1000 (the API's maximum). */
  pageSize?: number;
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

function toStoreError(error: unknown, operation: string, bucket: string, key?: string): Error {
  if (key !== undefined && statusOf(error) === 404) return new ObjectNotFoundError(bucket, key, { cause: error });
  return new StorageError(operation, bucket, key, { cause: error });
}

function nodeReadable(body: ObjectBody): Readable {
  if (typeof body === "string" || body instanceof Uint8Array)
    return Readable.from([typeof body === "string" ? Buffer.from(body) : Buffer.from(body)]);
  return Readable.fromWeb(body as import("node:stream/web").ReadableStream<Uint8Array>);
}

/** Cloud Storage user metadata values may be numbers or null in the API's answer; names are kept lower case. */
function userMetadata(metadata: Record<string, unknown> | undefined): Record<string, string> | undefined {
  if (!metadata) return undefined;
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata))
    if (value !== null && value !== undefined) result[name.toLowerCase()] = String(value);
  return Object.keys(result).length > 0 ? result : undefined;
}

function infoOf(key: string, metadata: File["metadata"]): ObjectInfo {
  const info: ObjectInfo = { key, size: Number(metadata.size ?? 0) };
  if (metadata.etag) info.etag = metadata.etag.replace(/^"|"$/g, "");
  if (metadata.contentType) info.contentType = metadata.contentType;
  const updated = normalizeIsoTime(metadata.updated);
  if (updated) info.lastModified = updated;
  const user = userMetadata(metadata.metadata as Record<string, unknown> | undefined);
  if (user) info.metadata = user;
  return info;
}

/**
 * Sluice's object store on Google Cloud Storage, through `@google-cloud/storage`. Reads and writes are
 * streamed; a write is a single-request upload, which Cloud Storage makes visible only once complete.
 *
 * @example
 * ```ts
 * import { Storage } from "@google-cloud/storage";
 * const store = new GcsObjectStore({ storage: new Storage({ apiEndpoint: "http://127.0.0.1:9199", projectId: "demo" }) });
 * await store.put("sensor-reports", "reports/a.json", JSON.stringify(report), { contentType: "application/json" });
 * ```
 */
export class GcsObjectStore implements ObjectStore {
  #storage: Storage | undefined;
  readonly #options: GcsObjectStoreOptions;

  constructor(options: GcsObjectStoreOptions = {}) {
    this.#options = options;
    this.#storage = options.storage;
  }

  /**
   * The underlying client. Read before any operation (and without `storage` given), it loads
   * `@google-cloud/storage` synchronously, through `require`: in an ESM program that is the SDK's CommonJS
   * build, whose classes are not those of an `import`. Pass `storage` to use your own.
   */
  get storage(): Storage {
    this.#storage ??= new (cloudStorage ?? requireCloudStorage()).Storage(this.#options.storageOptions);
    return this.#storage;
  }

  /** The client, after loading the SDK if this is the first operation and no client was given. */
  async #client(): Promise<Storage> {
    if (!this.#storage && !cloudStorage) await loadCloudStorage();
    return this.storage;
  }

  async #file(bucket: string, key: string): Promise<File> {
    return (await this.#client()).bucket(bucket).file(key);
  }

  async get(bucket: string, key: string): Promise<ReadableStream<Uint8Array>> {
    const source = (await this.#file(bucket, key)).createReadStream();
    // Wait for the first bytes (or the end, or an error) so that a missing object rejects here with
    // ObjectNotFoundError, as the store contract says, rather than later from inside the stream.
    await new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        source.off("readable", onReady);
        source.off("end", onReady);
        source.off("error", onError);
      };
      const onReady = () => {
        cleanup();
        resolve();
      };
      const onError = (error: unknown) => {
        cleanup();
        reject(toStoreError(error, "get", bucket, key));
      };
      source.once("readable", onReady);
      source.once("end", onReady);
      source.once("error", onError);
    });
    return Readable.toWeb(source) as unknown as ReadableStream<Uint8Array>;
  }

  async put(bucket: string, key: string, body: ObjectBody, options: PutOptions = {}): Promise<{ etag?: string }> {
    let file: File | undefined;
    try {
      file = await this.#file(bucket, key);
      // resumable: false sends one multipart request; the object appears only when it has all its bytes.
      const sink = file.createWriteStream({
        resumable: false,
        contentType: options.contentType ?? "application/octet-stream",
        metadata: options.metadata ? { metadata: options.metadata } : undefined,
      });
      await pipeline(nodeReadable(body), sink);
    } catch (error) {
      throw toStoreError(error, "put", bucket, undefined);
    }
    const etag = file.metadata?.etag;
    return etag ? { etag: etag.replace(/^"|"$/g, "") } : {};
  }

  /**
   * Creates the object only if no live generation exists under `key`: a single-request upload with
   * `ifGenerationMatch: 0`, which Cloud Storage answers 412 when one does. Caveat: the client retries
   * conditional uploads, so if a first attempt succeeded but its answer was lost, the retry meets 412
   * and this resolves `false` for an object this call wrote (the object is still written exactly once).
   */
  async putIfAbsent(bucket: string, key: string, body: string | Uint8Array, options: PutOptions = {}): Promise<boolean> {
    try {
      await (await this.#file(bucket, key)).save(typeof body === "string" ? body : Buffer.from(body), {
        resumable: false,
        contentType: options.contentType ?? "application/octet-stream",
        metadata: options.metadata ? { metadata: options.metadata } : undefined,
        preconditionOpts: { ifGenerationMatch: 0 },
      });
      return true;
    } catch (error) {
      if (statusOf(error) === 412) return false;
      throw toStoreError(error, "putIfAbsent", bucket, undefined);
    }
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      const [metadata] = await (await this.#file(bucket, key)).getMetadata();
      return infoOf(key, metadata);
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw toStoreError(error, "head", bucket, key);
    }
  }

  async *list(bucket: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    let pageToken: string | undefined;
    do {
      let files: File[];
      let next: { pageToken?: string } | null | undefined;
      try {
        [files, next] = await (await this.#client()).bucket(bucket).getFiles({
          prefix: options.prefix,
          autoPaginate: false,
          maxResults: this.#options.pageSize ?? 1000,
          pageToken,
        });
      } catch (error) {
        throw toStoreError(error, "list", bucket);
      }
      for (const file of files) yield infoOf(file.name, file.metadata);
      pageToken = next?.pageToken;
    } while (pageToken);
  }

  async delete(bucket: string, key: string): Promise<void> {
    try {
      await (await this.#file(bucket, key)).delete({ ignoreNotFound: true });
    } catch (error) {
      throw toStoreError(error, "delete", bucket, key);
    }
  }
}
