import { buildApp } from "fauxqs";

/**
 * Starts fauxqs 1.9.2 (an SQS emulator that speaks the JSON protocol the current AWS SDK sends, with
 * per-entry batch failures, message attributes, FIFO queues, `MaximumMessageSize` and SQS's body
 * character rules) on 127.0.0.1 and a free port, in memory. fauxqs 2.x needs Node 22.5 (`node:sqlite`);
 * 1.9.2 is its last release that runs on Node 20. Queues are created through the SDK (CreateQueue).
 *
 * Queue URLs lead back to this server (`http://127.0.0.1:<port>/000000000000/<name>`), as the SDK's
 * `useQueueUrlAsEndpoint` expects of a real queue URL when the endpoint comes from the environment
 * (`AWS_ENDPOINT_URL_SQS`): fauxqs names the host `sqs.<region>.localhost` unless its store's `host` is
 * empty, and its store is not exported, so it is loaded from the pinned version's files.
 */
export async function startSqsServer(): Promise<{ port: number; endpoint: string; stop: () => Promise<void> }> {
  // This package's own dependency, by path: fauxqs exports only its entry point.
  const { SqsStore } = (await import(new URL("../node_modules/fauxqs/dist/sqs/sqsStore.js", import.meta.url).href)) as {
    SqsStore: new () => { host: string };
  };
  const sqsStore = new SqsStore();
  sqsStore.host = "";
  const app = buildApp({ logger: false, stores: { sqsStore } as never });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { port, endpoint: `http://127.0.0.1:${port}`, stop: () => app.close() };
}
