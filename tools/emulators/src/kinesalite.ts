import type { AddressInfo } from "node:net";
import kinesalite from "kinesalite";

/**
 * Starts kinesalite 3.3.3 (an implementation of the Kinesis Data Streams API, in memory) on 127.0.0.1
 * and a free port. Streams become ACTIVE at once. The AWS SDK's Kinesis client speaks HTTP/2 by default
 * and kinesalite HTTP/1.1: give the client `requestHandler: new NodeHttpHandler()`.
 */
export async function startKinesalite(): Promise<{ port: number; endpoint: string; stop: () => Promise<void> }> {
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 1000 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}
