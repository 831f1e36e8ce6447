import { AZURITE_ACCOUNT_KEY, AZURITE_ACCOUNT_NAME, type RunningAzuriteBinary, runAzuriteBinary } from "./azurite.js";

/** A running Azurite queue service and the connection string that reaches it. */
export interface RunningAzuriteQueue extends RunningAzuriteBinary {
  queueEndpoint: string;
  /** The development account's connection string with only a `QueueEndpoint`. */
  connectionString: string;
}

/**
 * Starts a throw-away Azurite **queue** service (the real Azurite 3.35.0 `azurite-queue`, the same package
 * as the blob service) on 127.0.0.1 and an OS-chosen port, in memory.
 *
 * @example
 * ```ts
 * const queues = await startAzuriteQueue();
 * const client = QueueServiceClient.fromConnectionString(queues.connectionString);
 * await queues.stop();
 * ```
 */
export async function startAzuriteQueue(options: { timeoutMs?: number } = {}): Promise<RunningAzuriteQueue> {
  const args = [
    "--queueHost",
    "127.0.0.1",
    "--queuePort",
    "0",
    "--inMemoryPersistence",
    "--disableTelemetry",
    // Current @azure/storage-queue sends an x-ms-version newer than Azurite 3.35 knows.
    "--skipApiVersionCheck",
    "--silent",
  ];
  const running = await runAzuriteBinary("azurite-queue", args, options.timeoutMs ?? 20_000);
  const queueEndpoint = `${running.url}/${AZURITE_ACCOUNT_NAME}`;
  return {
    ...running,
    queueEndpoint,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};AccountKey=${AZURITE_ACCOUNT_KEY};QueueEndpoint=${queueEndpoint};`,
  };
}
