import { createRequire } from "node:module";
import type { ListObjectsV2CommandOutput, S3Client, S3ClientConfig } from "@aws-sdk/client-s3";
import {
  type ListOptions,
  type ObjectBody,
  type ObjectInfo,
  ObjectNotFoundError,
  type ObjectStore,
  type PutOptions,
  StorageError,
} from "@sluice/core";

/**
 * Options of {@link S3ObjectStore}.
 *
 * @example
 * ```ts
 * new S3ObjectStore({ clientConfig: { region: "eu-west-1" }, partSize: 16 * 1024 * 1024 });
 * ```
 */
export interface S3ObjectStoreOptions {
  /** The client to use. Default: one created on first use with the environment's region and credentials. */
  client?: S3Client;
  /** Used only when `client` is not given. */
  clientConfig?: S3ClientConfig;
  /** Part size of a streamed upload, in bytes. Default 8 MiB (S3's minimum is 5 MiB). */
  partSize?: number;
}

type ClientS3 = typeof import("@aws-sdk/client-s3");

// The SDK is loaded on first use, not at import: `@aws-sdk/client-s3` and `@aws-sdk/lib-storage` take
// over 100 ms to import here (BENCHMARKS.md, cold start), which an HTTP or message function, or an object
// function that never reads its object, should not pay on every cold start. `@sluice/azure` does the same.
let clientS3: ClientS3 | undefined;
let loadingClientS3: Promise<ClientS3> | undefined;

function loadClientS3(): Promise<ClientS3> {
  loadingClientS3 ??= import("@aws-sdk/client-s3").then((module) => {
    clientS3 = module;
    return module;
  });
  return loadingClientS3;
}

/** For the synchronous `client` getter only, when it is read before any operation has loaded the SDK. */
function requireClientS3(): ClientS3 {
  clientS3 ??= createRequire(import.meta.url)("@aws-sdk/client-s3") as ClientS3;
  return clientS3;
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: unknown })?.name;
  return name === "NoSuchKey" || name === "NotFound" || statusOf(error) === 404;
}

function unquote(etag: string | undefined): string | undefined {
  return etag === undefined ? undefined : etag.replace(/^"|"$/g, "");
}

/**
 * The S3 object store behind core's `ObjectStore`: streamed get, whole-or-nothing put (a stream goes up as
 * a multipart upload, which S3 only shows once completed), head, paginated list and delete. The client
 * is injectable; without one, a default client is created on first use.
 *
 * @example
 * ```ts
 * const store = new S3ObjectStore({ client: new S3Client({ region: "eu-west-1" }) });
 * await store.put("sensor-reports", "reports/a.json", JSON.stringify(report), { contentType: "application/json" });
 * ```
 */
export class S3ObjectStore implements ObjectStore {
  readonly #options: S3ObjectStoreOptions;
  #client: S3Client | undefined;

  constructor(options: S3ObjectStoreOptions = {}) {
    this.#options = options;
    this.#client = options.client;
  }

  /**
   * The S3 client, created on first use when none was given (a cold start that never reads S3 pays nothing).
   * Read before any operation (and without `client` given), it loads `@aws-sdk/client-s3` synchronously,
   * through `require`: in an ESM program that is the SDK's CommonJS build. Pass `client` to use your own.
   */
  get client(): S3Client {
    this.#client ??= new (clientS3 ?? requireClientS3()).S3Client(this.#options.clientConfig ?? {});
    return this.#client;
  }

  /** The SDK's commands, loaded by the first operation; `this.client` can be read synchronously after it. */
  async #sdk(): Promise<ClientS3> {
    return clientS3 ?? loadClientS3();
  }

  async get(bucket: string, key: string): Promise<ReadableStream<Uint8Array>> {
    try {
      const { GetObjectCommand } = await this.#sdk();
      const response = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!response.Body) throw new Error("GetObject returned no body");
      return response.Body.transformToWebStream() as ReadableStream<Uint8Array>;
    } catch (error) {
      if (isNotFound(error)) throw new ObjectNotFoundError(bucket, key, { cause: error });
      throw new StorageError("get", bucket, key, { cause: error });
    }
  }

  async put(bucket: string, key: string, body: ObjectBody, options: PutOptions = {}): Promise<{ etag?: string }> {
    const params = { Bucket: bucket, Key: key, ContentType: options.contentType, Metadata: options.metadata };
    try {
      const { PutObjectCommand } = await this.#sdk();
      if (typeof body === "string" || body instanceof Uint8Array) {
        const response = await this.client.send(new PutObjectCommand({ ...params, Body: body }));
        return { etag: unquote(response.ETag) };
      }
      // A stream has no length up front: PutObject would need one, so lib-storage buffers parts and sends
      // one PutObject for a small body or a multipart upload, completed only once every part is stored.
      const { Upload } = await import("@aws-sdk/lib-storage");
      const upload = new Upload({
        client: this.client,
        params: { ...params, Body: body },
        partSize: this.#options.partSize ?? 8 * 1024 * 1024,
      });
      const response = await upload.done();
      return { etag: unquote(response.ETag) };
    } catch (error) {
      throw new StorageError("put", bucket, key, { cause: error });
    }
  }

  /**
   * Writes an object only if no object has that key, with S3's conditional write (`If-None-Match: *`,
   * S3 User Guide, "Conditional writes"): `false` when it already exists (412 Precondition Failed) or a
   * concurrent conditional write to the key won (409 ConditionalRequestConflict).
   */
  async putIfAbsent(bucket: string, key: string, body: string | Uint8Array, options: PutOptions = {}): Promise<boolean> {
    try {
      const { PutObjectCommand } = await this.#sdk();
      await this.client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: options.contentType,
          Metadata: options.metadata,
          IfNoneMatch: "*",
        }),
      );
      return true;
    } catch (error) {
      const status = statusOf(error);
      if (status === 412 || status === 409) return false;
      throw new StorageError("putIfAbsent", bucket, key, { cause: error });
    }
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      const { HeadObjectCommand } = await this.#sdk();
      const response = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      const info: ObjectInfo = { key, size: response.ContentLength ?? 0 };
      const etag = unquote(response.ETag);
      if (etag) info.etag = etag;
      if (response.ContentType) info.contentType = response.ContentType;
      if (response.LastModified) info.lastModified = response.LastModified.toISOString();
      if (response.Metadata) info.metadata = lowerCaseKeys(response.Metadata);
      return info;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw new StorageError("head", bucket, key, { cause: error });
    }
  }

  async *list(bucket: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    let token: string | undefined;
    do {
      let response: ListObjectsV2CommandOutput;
      try {
        const { ListObjectsV2Command } = await this.#sdk();
        response = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: options.prefix, ContinuationToken: token }));
      } catch (error) {
        throw new StorageError("list", bucket, options.prefix, { cause: error });
      }
      for (const item of response.Contents ?? []) {
        if (item.Key === undefined) continue;
        const info: ObjectInfo = { key: item.Key, size: item.Size ?? 0 };
        const etag = unquote(item.ETag);
        if (etag) info.etag = etag;
        if (item.LastModified) info.lastModified = item.LastModified.toISOString();
        yield info;
      }
      token = response.IsTruncated ? response.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(bucket: string, key: string): Promise<void> {
    try {
      // S3 answers 204 for a key that does not exist, so a missing object needs no special case.
      const { DeleteObjectCommand } = await this.#sdk();
      await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (error) {
      if (isNotFound(error)) return;
      throw new StorageError("delete", bucket, key, { cause: error });
    }
  }
}

function lowerCaseKeys(map: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(map).map(([name, value]) => [name.toLowerCase(), value]));
}
