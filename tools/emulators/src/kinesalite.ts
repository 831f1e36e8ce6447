import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import kinesalite from "kinesalite";

/** A record of a PutRecords request, as the SDK sends it (`Data` base64). */
export interface KinesisRequestRecord {
  Data: string;
  PartitionKey: string;
}

/** kinesalite, with refusals that tests can inject (see {@link startKinesalite}). */
export interface Kinesalite {
  port: number;
  endpoint: string;
  /**
   * Decides, for every record of every later PutRecords, whether Kinesis refuses it (the `ErrorCode`
   * returned, e.g. `ProvisionedThroughputExceededException`) or writes it (`undefined`). A refused record
   * never reaches the stream; `call` counts PutRecords calls from 1.
   */
  refuse(rule: ((record: KinesisRequestRecord, index: number, call: number) => string | undefined) | undefined): void;
  stop(): Promise<void>;
}

/**
 * Starts kinesalite 3.3.3 (an implementation of the Kinesis Data Streams API, in memory) on 127.0.0.1
 * and a free port. Streams become ACTIVE at once. The AWS SDK's Kinesis client speaks HTTP/2 by default
 * and kinesalite HTTP/1.1: give the client `requestHandler: new NodeHttpHandler()`.
 *
 * kinesalite never refuses single records, as Kinesis does when a shard is over its throughput
 * (`FailedRecordCount`, `Records[i].ErrorCode`). {@link Kinesalite.refuse} injects such refusals: the
 * refused records are taken out of the request before kinesalite sees it, and put back, with their error,
 * at their places in its answer, so the real SDK reads one ordinary PutRecords answer.
 */
export async function startKinesalite(): Promise<Kinesalite> {
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 1000 });
  const [handle] = server.listeners("request") as RequestListener[];
  if (!handle) throw new Error("kinesalite has no request listener");
  let rule: ((record: KinesisRequestRecord, index: number, call: number) => string | undefined) | undefined;
  let calls = 0;

  server.removeAllListeners("request");
  server.on("request", (request: IncomingMessage, response: ServerResponse) => {
    if (request.headers["x-amz-target"] !== "Kinesis_20131202.PutRecords" || !rule) {
      if (request.headers["x-amz-target"] === "Kinesis_20131202.PutRecords") calls++;
      handle(request, response);
      return;
    }
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      calls++;
      const input = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { Records?: KinesisRequestRecord[] };
      const records = input.Records ?? [];
      const refused = new Map<number, string>();
      records.forEach((record, index) => {
        const code = rule?.(record, index, calls);
        if (code) refused.set(index, code);
      });
      const refusal = (index: number) => ({
        ErrorCode: refused.get(index),
        ErrorMessage: `Record ${index} refused (${refused.get(index)}), injected by the test`,
      });
      if (refused.size === records.length && records.length > 0) {
        const body = JSON.stringify({ FailedRecordCount: refused.size, Records: records.map((_record, index) => refusal(index)) });
        response.writeHead(200, { "content-type": String(request.headers["content-type"]), "content-length": Buffer.byteLength(body) });
        response.end(body);
        return;
      }
      const body = Buffer.from(JSON.stringify({ ...input, Records: records.filter((_record, index) => !refused.has(index)) }));
      const forwarded = Object.assign(new PassThrough(), {
        headers: { ...request.headers, "content-length": String(body.byteLength) },
        method: request.method,
        url: request.url,
        httpVersion: request.httpVersion,
      });
      const end = response.end.bind(response) as (body?: unknown) => ServerResponse;
      (response as { end: (body?: unknown) => ServerResponse }).end = (answer?: unknown) => {
        if (refused.size === 0 || response.statusCode !== 200 || answer === undefined) return end(answer);
        const output = JSON.parse(String(answer)) as { FailedRecordCount?: number; Records?: unknown[] };
        const written = [...(output.Records ?? [])];
        const merged = records.map((_record, index) => (refused.has(index) ? refusal(index) : written.shift()));
        const text = JSON.stringify({ ...output, FailedRecordCount: (output.FailedRecordCount ?? 0) + refused.size, Records: merged });
        response.setHeader("Content-Length", Buffer.byteLength(text));
        return end(text);
      };
      handle(forwarded as unknown as IncomingMessage, response);
      forwarded.end(body);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    refuse(next) {
      rule = next;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
