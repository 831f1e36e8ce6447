import { buildApp } from "fauxqs";

/** An SQS server for the tests: fauxqs, with refusals that tests can inject (see {@link startSqsServer}). */
export interface SqsServer {
  port: number;
  endpoint: string;
  /**
   * Decides, for every entry of every later SendMessageBatch, whether SQS refuses it as a server fault
   * (`SenderFault: false`, the code returned) or takes it (`undefined`). A refused entry never reaches the
   * queue; `call` counts SendMessageBatch calls from 1.
   */
  refuse(rule: ((entry: { Id: string; MessageBody: string }, call: number) => string | undefined) | undefined): void;
  stop(): Promise<void>;
}

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
 *
 * fauxqs refuses entries only for what is wrong with them (`SenderFault: true`). The transient refusals
 * SQS can also answer per entry (`SenderFault: false`, e.g. `InternalError`) are injected with
 * {@link SqsServer.refuse}: the refused entries are taken out of the request before fauxqs sees it and
 * added to its answer's `Failed` list, so the real SDK reads one ordinary SendMessageBatch answer.
 */
export async function startSqsServer(): Promise<SqsServer> {
  // This package's own dependency, by path: fauxqs exports only its entry point.
  const { SqsStore } = (await import(new URL("../node_modules/fauxqs/dist/sqs/sqsStore.js", import.meta.url).href)) as {
    SqsStore: new () => { host: string };
  };
  const sqsStore = new SqsStore();
  sqsStore.host = "";
  const app = buildApp({ logger: false, stores: { sqsStore } as never });

  type Refused = Array<{ Id: string; SenderFault: false; Code: string; Message: string }>;
  let rule: ((entry: { Id: string; MessageBody: string }, call: number) => string | undefined) | undefined;
  let calls = 0;
  const refusedBy = new WeakMap<object, Refused>();
  app.addHook("preHandler", async (request, reply) => {
    if (request.headers["x-amz-target"] !== "AmazonSQS.SendMessageBatch") return;
    calls++;
    const body = request.body as { Entries?: Array<{ Id: string; MessageBody: string }> } | undefined;
    if (!rule || !Array.isArray(body?.Entries)) return;
    const refused: Refused = [];
    const kept = body.Entries.filter((entry) => {
      const code = rule?.(entry, calls);
      if (code)
        refused.push({
          Id: entry.Id,
          SenderFault: false,
          Code: code,
          Message: `entry ${entry.Id} refused (${code}), injected by the test`,
        });
      return !code;
    });
    if (refused.length === 0) return;
    if (kept.length === 0) {
      // Every entry refused: SQS answers the batch, it does not call it empty.
      await reply
        .code(200)
        .header("content-type", "application/x-amz-json-1.0")
        .send(JSON.stringify({ Successful: [], Failed: refused }));
      return reply;
    }
    body.Entries = kept;
    refusedBy.set(request, refused);
  });
  app.addHook("onSend", async (request, _reply, payload) => {
    const refused = refusedBy.get(request);
    if (!refused || typeof payload !== "string") return payload;
    const answer = JSON.parse(payload) as { Successful?: unknown[]; Failed?: unknown[] };
    if (!Array.isArray(answer.Successful)) return payload;
    return JSON.stringify({ ...answer, Failed: [...(answer.Failed ?? []), ...refused] });
  });

  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    refuse(next) {
      rule = next;
    },
    stop: () => app.close(),
  };
}
