/** What a store knows about one object. */
export interface ObjectInfo {
  key: string;
  size: number;
  /** Without quotes. */
  etag?: string;
  contentType?: string;
  /** ISO 8601 UTC. */
  lastModified?: string;
  /** User metadata; names lower case. */
  metadata?: Record<string, string>;
}

/** Bytes to write: all at once or as a stream. */
export type ObjectBody = string | Uint8Array | ReadableStream<Uint8Array>;

export interface PutOptions {
  contentType?: string;
  /** User metadata; names lower case, values ASCII. */
  metadata?: Record<string, string>;
}

export interface ListOptions {
  prefix?: string;
}

/**
 * An object store: a bucket (or container, or directory) of keyed byte objects. Every provider
 * implements it; every implementation passes the same suite (`describeObjectStore` in
 * `@sluice/core/testing`).
 *
 * @example
 * ```ts
 * await store.put("sensor-reports", "reports/a.json", JSON.stringify(report), { contentType: "application/json" });
 * for await (const info of store.list("sensor-reports", { prefix: "reports/" })) console.log(info.key, info.size);
 * ```
 */
export interface ObjectStore {
  /** Streams an object's bytes. Rejects with `ObjectNotFoundError` when it does not exist. */
  get(bucket: string, key: string): Promise<ReadableStream<Uint8Array>>;
  /** Writes an object whole: readers never see a partly written object. */
  put(bucket: string, key: string, body: ObjectBody, options?: PutOptions): Promise<{ etag?: string }>;
  /** The object's info, or `undefined` when it does not exist. */
  head(bucket: string, key: string): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with `prefix`, in key order. */
  list(bucket: string, options?: ListOptions): AsyncIterable<ObjectInfo>;
  /** Deletes an object; deleting a missing object is not an error. */
  delete(bucket: string, key: string): Promise<void>;
  /**
   * Writes an object only if none exists under `key`, atomically: resolves `true` when this call created
   * it, `false` (writing nothing) when one was there. Backed by the store's conditional write (S3
   * `If-None-Match: *`, GCS `ifGenerationMatch: 0`, Azure `If-None-Match: *`, an exclusive link on the
   * filesystem). Optional: an idempotency store needs it.
   */
  putIfAbsent?(bucket: string, key: string, body: string | Uint8Array, options?: PutOptions): Promise<boolean>;
}
