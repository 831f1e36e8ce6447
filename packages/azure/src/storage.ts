import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import type { BlobServiceClient } from "@azure/storage-blob";
import {
  ConfigurationError,
  type ListOptions,
  type ObjectBody,
  type ObjectInfo,
  ObjectNotFoundError,
  type ObjectStore,
  type PutOptions,
  StorageError,
} from "@sluice/core";

/**
 * Where a {@link BlobObjectStore} gets its client.
 *
 * @example
 * ```ts
 * new BlobObjectStore({ connection: "SensorStorage" }); // reads process.env.SensorStorage on first use
 * ```
 */
export interface BlobObjectStoreOptions {
  /** A client you built (managed identity, custom pipeline, Azurite). Takes precedence over `connection`. */
  blobServiceClient?: BlobServiceClient;
  /**
   * The app setting naming the storage account, read on first use, as the Functions host reads it: a
   * connection string in `<setting>`, or an identity-based connection in `<setting>__blobServiceUri` /
   * `<setting>__accountName` (with `__credential` and `__clientId`). Default: the setting named by
   * `SLUICE_STORAGE_CONNECTION`, else `"AzureWebJobsStorage"`, the account every Function App already has.
   */
  connection?: string;
  /** Where settings are read. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /** Block size for streamed uploads. Default 4 MiB. */
  blockSize?: number;
  /** Blocks uploaded at once for streamed uploads. Default 4. */
  concurrency?: number;
}

/**
 * Sluice's `ObjectStore` on Azure Blob Storage: a bucket is a container, a key a blob name. Reads and
 * writes stream; a write is a block blob commit, so readers never see it half done. ETags come back
 * without quotes.
 *
 * @example
 * ```ts
 * import { BlobServiceClient } from "@azure/storage-blob";
 * const store = new BlobObjectStore({ blobServiceClient: BlobServiceClient.fromConnectionString(connectionString) });
 * await store.put("sensor-reports", "reports/a.json", JSON.stringify(report), { contentType: "application/json" });
 * ```
 */
export class BlobObjectStore implements ObjectStore {
  readonly #options: BlobObjectStoreOptions;
  #client: BlobServiceClient | undefined;

  constructor(options: BlobObjectStoreOptions = {}) {
    this.#options = options;
    this.#client = options.blobServiceClient;
  }

  /**
   * The client, created from the connection setting on first use: registering needs no settings, and
   * `@azure/storage-blob` (about 200 ms to load, measured on Node 20) is only loaded by functions that
   * touch the store, which keeps it off the cold start of HTTP, timer and message functions.
   */
  async client(): Promise<BlobServiceClient> {
    if (this.#client) return this.#client;
    const env = this.#options.env ?? process.env;
    // SLUICE_STORAGE_CONNECTION lets a deployment point the store at a data account without code, which
    // matters when the entry is generated (sluice build) and AzureWebJobsStorage is the runtime's own account.
    const setting = this.#options.connection ?? env.SLUICE_STORAGE_CONNECTION ?? "AzureWebJobsStorage";
    const connectionString = env[setting];
    const { BlobServiceClient: Client } = await import("@azure/storage-blob");
    if (connectionString) {
      this.#client ??= Client.fromConnectionString(connectionString);
      return this.#client;
    }
    // An identity-based connection, as the Functions host reads it: `<setting>__blobServiceUri` (or
    // `__accountName`), with `__credential: managedidentity` and `__clientId` for a user-assigned identity.
    const accountName = env[`${setting}__accountName`];
    const serviceUri = env[`${setting}__blobServiceUri`] ?? (accountName ? `https://${accountName}.blob.core.windows.net` : undefined);
    if (!serviceUri) {
      throw new ConfigurationError(
        `app setting ${setting} holds no storage connection string and ${setting}__blobServiceUri is not set; set one or pass blobServiceClient`,
      );
    }
    const { DefaultAzureCredential, ManagedIdentityCredential } = await import("@azure/identity");
    const clientId = env[`${setting}__clientId`];
    const credential =
      env[`${setting}__credential`]?.toLowerCase() === "managedidentity"
        ? new ManagedIdentityCredential(clientId ? { clientId } : {})
        : new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
    this.#client ??= new Client(serviceUri, credential);
    return this.#client;
  }

  async #container(bucket: string) {
    return (await this.client()).getContainerClient(bucket);
  }

  async get(bucket: string, key: string): Promise<ReadableStream<Uint8Array>> {
    try {
      const response = await (await this.#container(bucket)).getBlobClient(key).download();
      const body = response.readableStreamBody;
      if (!body) return new ReadableStream({ start: (controller) => controller.close() });
      return Readable.toWeb(body as Readable) as unknown as ReadableStream<Uint8Array>;
    } catch (error) {
      throw storageFailure("get", bucket, key, error);
    }
  }

  async put(bucket: string, key: string, body: ObjectBody, options: PutOptions = {}): Promise<{ etag?: string }> {
    const blob = (await this.#container(bucket)).getBlockBlobClient(key);
    const common = {
      blobHTTPHeaders: options.contentType ? { blobContentType: options.contentType } : undefined,
      metadata: options.metadata ? encodeMetadata(options.metadata) : undefined,
    };
    try {
      const response =
        typeof body === "string" || body instanceof Uint8Array
          ? await blob.uploadData(
              typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
              common,
            )
          : await blob.uploadStream(
              Readable.fromWeb(body as unknown as NodeReadableStream<Uint8Array>),
              this.#options.blockSize ?? 4 * 1024 * 1024,
              this.#options.concurrency ?? 4,
              common,
            );
      const etag = unquote(response.etag);
      return etag ? { etag } : {};
    } catch (error) {
      throw storageFailure("put", bucket, key, error);
    }
  }

  /**
   * Creates the blob only if none exists, with `If-None-Match: *` on a single-shot upload: Azure answers
   * 409 `BlobAlreadyExists` when the name is taken (412 on some paths), and nothing is written.
   */
  async putIfAbsent(bucket: string, key: string, body: string | Uint8Array, options: PutOptions = {}): Promise<boolean> {
    const blob = (await this.#container(bucket)).getBlockBlobClient(key);
    const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    try {
      await blob.upload(bytes, bytes.length, {
        conditions: { ifNoneMatch: "*" },
        blobHTTPHeaders: options.contentType ? { blobContentType: options.contentType } : undefined,
        metadata: options.metadata ? encodeMetadata(options.metadata) : undefined,
      });
      return true;
    } catch (error) {
      // Only "the name is taken" means false; a lease or a rehydration also answers 409 and must not pass for it.
      const code = errorCodeOf(error);
      if ((statusOf(error) === 409 && code === "BlobAlreadyExists") || (statusOf(error) === 412 && code === "ConditionNotMet"))
        return false;
      throw storageFailure("putIfAbsent", bucket, key, error);
    }
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      const properties = await (await this.#container(bucket)).getBlobClient(key).getProperties();
      const info: ObjectInfo = { key, size: properties.contentLength ?? 0 };
      const etag = unquote(properties.etag);
      if (etag) info.etag = etag;
      if (properties.contentType) info.contentType = properties.contentType;
      if (properties.lastModified) info.lastModified = properties.lastModified.toISOString();
      if (properties.metadata) info.metadata = decodeMetadata(properties.metadata);
      return info;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw storageFailure("head", bucket, key, error);
    }
  }

  async *list(bucket: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    const pages = (await this.#container(bucket)).listBlobsFlat(options.prefix ? { prefix: options.prefix } : {}).byPage();
    while (true) {
      let page: Awaited<ReturnType<typeof pages.next>>;
      try {
        page = await pages.next();
      } catch (error) {
        throw storageFailure("list", bucket, options.prefix, error);
      }
      if (page.done) return;
      for (const item of page.value.segment.blobItems) {
        const info: ObjectInfo = { key: item.name, size: item.properties.contentLength ?? 0 };
        const etag = unquote(item.properties.etag);
        if (etag) info.etag = etag;
        if (item.properties.contentType) info.contentType = item.properties.contentType;
        if (item.properties.lastModified) info.lastModified = item.properties.lastModified.toISOString();
        yield info;
      }
    }
  }

  async delete(bucket: string, key: string): Promise<void> {
    try {
      await (await this.#container(bucket)).getBlobClient(key).deleteIfExists();
    } catch (error) {
      throw storageFailure("delete", bucket, key, error);
    }
  }
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" ? status : undefined;
}

function errorCodeOf(error: unknown): string | undefined {
  const candidate = error as { code?: unknown; details?: { errorCode?: unknown } } | null;
  const code = candidate?.details?.errorCode ?? candidate?.code;
  return typeof code === "string" ? code : undefined;
}

function storageFailure(operation: string, bucket: string, key: string | undefined, error: unknown): Error {
  if (error instanceof ConfigurationError) return error;
  // BlobNotFound and ContainerNotFound alike: the object the caller named does not exist.
  if (statusOf(error) === 404 && key !== undefined && operation === "get") return new ObjectNotFoundError(bucket, key, { cause: error });
  return new StorageError(operation, bucket, key, { cause: error });
}

function unquote(etag: string | undefined): string | undefined {
  if (!etag) return undefined;
  return etag.replace(/^"(.*)"$/, "$1") || undefined;
}

/**
 * Azure metadata names must be C# identifiers, so `sluice-hops` cannot be stored as it is. A name made
 * only of lower-case letters and digits, starting with a letter, is stored unchanged; any other name has
 * each other character (and a leading digit) written `_<hex code point>_`. Unchanged names never hold `_`,
 * so decoding is unambiguous.
 */
export function encodeMetadataName(name: string): string {
  const lower = name.toLowerCase();
  if (/^[a-z][a-z0-9]*$/.test(lower)) return lower;
  let encoded = "";
  for (const [index, character] of [...lower].entries()) {
    const plain = /[a-z]/.test(character) || (index > 0 && /[0-9]/.test(character));
    encoded += plain ? character : `_${(character.codePointAt(0) as number).toString(16)}_`;
  }
  return encoded;
}

/** The inverse of {@link encodeMetadataName}. */
export function decodeMetadataName(name: string): string {
  const lower = name.toLowerCase();
  if (!lower.includes("_")) return lower;
  return lower.replace(/_([0-9a-f]{1,6})_/g, (_match, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16)));
}

function encodeMetadata(metadata: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).map(([name, value]) => [encodeMetadataName(name), value]));
}

function decodeMetadata(metadata: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).map(([name, value]) => [decodeMetadataName(name), value]));
}
