import { buildApp } from "fauxqs";

/**
 * Starts fauxqs 1.9.2 (an SQS emulator that speaks the JSON protocol the current AWS SDK sends, with
 * per-entry batch failures, message attributes, FIFO queues, `MaximumMessageSize` and SQS's body
 * character rules) on 127.0.0.1 and a free port, in memory. fauxqs 2.x needs Node 22.5 (`node:sqlite`);
 * 1.9.2 is its last release that runs on Node 20. Queues are created through the SDK (CreateQueue);
 * queue URLs it returns name the host as `sqs.<region>.127.0.0.1`, so clients reach it through `endpoint`.
 */
export async function startSqsServer(): Promise<{ port: number; endpoint: string; stop: () => Promise<void> }> {
  const app = buildApp({ logger: false, host: "127.0.0.1" });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { port, endpoint: `http://127.0.0.1:${port}`, stop: () => app.close() };
}
