import { randomBytes, randomUUID } from "node:crypto";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A PROTOCOL-LEVEL stand-in for Amazon Data Firehose, NOT the service: Firehose has no local server, so
 * this one speaks its wire format as the AWS SDK sends it (JSON 1.1, `POST /` with
 * `x-amz-target: Firehose_20150804.<Action>`, `Data` as base64) for CreateDeliveryStream,
 * DeleteDeliveryStream, DescribeDeliveryStream, ListDeliveryStreams, PutRecord and PutRecordBatch, so
 * that the real `@aws-sdk/client-firehose` is used unchanged. It keeps the documented behaviour the
 * tests rely on: the limits (more than 500 records or 4 MiB a call refused whole with
 * `InvalidArgumentException`, a record over 1,000 KiB with `ValidationException`), `ResourceNotFoundException`
 * for an unknown stream, and per-record
 * failures in `RequestResponses` with `FailedPutCount`, which tests inject with {@link FirehoseServer.refuse}.
 * It does not buffer by time or size, transform, convert formats or compress: {@link FirehoseServer.flush}
 * writes what a stream holds as one object, concatenated as Firehose does, where an S3 destination says.
 */
export interface FirehoseServer {
  port: number;
  endpoint: string;
  /** Records each stream has accepted, in order. */
  records(stream: string): FirehoseRecord[];
  /**
   * Decides, for every record of every later call, whether it is refused, and with which `ErrorCode`
   * (`undefined` accepts it). `call` counts PutRecord and PutRecordBatch calls from 1.
   */
  refuse(rule: ((record: FirehoseRecord, index: number, call: number) => string | undefined) | undefined): void;
  /**
   * Writes the records a stream holds since the last flush as one object, concatenated with nothing in
   * between, under `<prefix>YYYY/MM/DD/HH/<stream>-1-YYYY-MM-DD-HH-MM-SS-<uuid>` in the stream's S3
   * destination bucket, through `put`. Returns the key, or `undefined` when there was nothing to write.
   */
  flush(stream: string, put: (bucket: string, key: string, body: Uint8Array) => Promise<void>): Promise<string | undefined>;
  stop(): Promise<void>;
}

/** A record as the stream holds it. */
export interface FirehoseRecord {
  recordId: string;
  data: Uint8Array;
  /** Epoch milliseconds, as Firehose gives `approximateArrivalTimestamp` to a transformation Lambda. */
  approximateArrivalTimestamp: number;
}

interface DeliveryStream {
  name: string;
  arn: string;
  created: number;
  bucket?: string;
  prefix: string;
  records: FirehoseRecord[];
  flushed: number;
}

const MAX_RECORDS = 500;
const MAX_CALL_BYTES = 4 * 1024 * 1024;
const MAX_RECORD_BYTES = 1_000 * 1024;
const ACCOUNT = "123456789012";
const REGION = "us-east-1";

class FirehoseFault extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** Starts the protocol-level Firehose server on 127.0.0.1 and a free port (see {@link FirehoseServer}). */
export async function startFirehoseServer(): Promise<FirehoseServer> {
  const streams = new Map<string, DeliveryStream>();
  let rule: ((record: FirehoseRecord, index: number, call: number) => string | undefined) | undefined;
  let calls = 0;
  let sequence = 0n;

  const stream = (name: unknown): DeliveryStream => {
    const found = typeof name === "string" ? streams.get(name) : undefined;
    if (!found) {
      throw new FirehoseFault("ResourceNotFoundException", `Firehose ${String(name)} under account ${ACCOUNT} not found.`);
    }
    return found;
  };

  const decode = (value: unknown, where: string): Uint8Array => {
    if (typeof value !== "string")
      throw new FirehoseFault(
        "ValidationException",
        `1 validation error detected: Value null at '${where}.data' failed to satisfy constraint: Member must not be null`,
      );
    const data = new Uint8Array(Buffer.from(value, "base64"));
    if (data.byteLength > MAX_RECORD_BYTES) {
      throw new FirehoseFault(
        "ValidationException",
        `1 validation error detected: Value at '${where}.data' failed to satisfy constraint: Member must have length less than or equal to ${MAX_RECORD_BYTES}`,
      );
    }
    return data;
  };

  // Record ids are long opaque strings in the service (56 digits and more); only their uniqueness matters.
  const recordId = () => `${(++sequence).toString().padStart(20, "0")}${randomBytes(18).toString("hex")}`;

  function put(target: DeliveryStream, data: Uint8Array[], call: number) {
    const responses: Array<{ RecordId: string } | { ErrorCode: string; ErrorMessage: string }> = [];
    let failed = 0;
    data.forEach((bytes, index) => {
      const record: FirehoseRecord = { recordId: recordId(), data: bytes, approximateArrivalTimestamp: Date.now() };
      const code = rule?.(record, index, call);
      if (code) {
        failed++;
        responses.push({ ErrorCode: code, ErrorMessage: `Record ${index} refused (${code}), injected by the test` });
        return;
      }
      target.records.push(record);
      responses.push({ RecordId: record.recordId });
    });
    return { failed, responses };
  }

  const actions: Record<string, (input: Record<string, any>) => unknown> = {
    CreateDeliveryStream(input) {
      const name = input.DeliveryStreamName;
      if (typeof name !== "string" || !/^[a-zA-Z0-9_.-]{1,64}$/.test(name)) {
        throw new FirehoseFault("InvalidArgumentException", "DeliveryStreamName must be 1 to 64 characters of [a-zA-Z0-9_.-]");
      }
      if (streams.has(name)) throw new FirehoseFault("ResourceInUseException", `Firehose ${name} under account ${ACCOUNT} already exists.`);
      const destination = input.ExtendedS3DestinationConfiguration ?? input.S3DestinationConfiguration;
      const created: DeliveryStream = {
        name,
        arn: `arn:aws:firehose:${REGION}:${ACCOUNT}:deliverystream/${name}`,
        created: Date.now() / 1000,
        prefix: typeof destination?.Prefix === "string" ? destination.Prefix : "",
        records: [],
        flushed: 0,
      };
      if (typeof destination?.BucketARN === "string") created.bucket = destination.BucketARN.replace(/^arn:aws[\w-]*:s3:::/, "");
      streams.set(name, created);
      return { DeliveryStreamARN: created.arn };
    },
    DeleteDeliveryStream(input) {
      streams.delete(stream(input.DeliveryStreamName).name);
      return {};
    },
    DescribeDeliveryStream(input) {
      const found = stream(input.DeliveryStreamName);
      return {
        DeliveryStreamDescription: {
          DeliveryStreamName: found.name,
          DeliveryStreamARN: found.arn,
          DeliveryStreamStatus: "ACTIVE",
          DeliveryStreamType: "DirectPut",
          VersionId: "1",
          CreateTimestamp: found.created,
          Destinations: found.bucket
            ? [
                {
                  DestinationId: "destinationId-000000000001",
                  S3DestinationDescription: { BucketARN: `arn:aws:s3:::${found.bucket}`, Prefix: found.prefix },
                },
              ]
            : [],
          HasMoreDestinations: false,
        },
      };
    },
    ListDeliveryStreams() {
      return { DeliveryStreamNames: [...streams.keys()].sort(), HasMoreDeliveryStreams: false };
    },
    PutRecord(input) {
      const target = stream(input.DeliveryStreamName);
      const data = decode(input.Record?.Data, "record");
      const { responses } = put(target, [data], ++calls);
      const response = responses[0] as { RecordId: string } | { ErrorCode: string; ErrorMessage: string };
      // PutRecord has no per-record answer: a refused record fails the call with its code.
      if ("ErrorCode" in response) throw new FirehoseFault(response.ErrorCode, response.ErrorMessage);
      return { RecordId: response.RecordId, Encrypted: false };
    },
    PutRecordBatch(input) {
      const target = stream(input.DeliveryStreamName);
      const records: unknown[] = Array.isArray(input.Records) ? input.Records : [];
      if (records.length === 0 || records.length > MAX_RECORDS) {
        throw new FirehoseFault("InvalidArgumentException", `Records must hold 1 to ${MAX_RECORDS} records, got ${records.length}`);
      }
      const data = records.map((record, index) => decode((record as { Data?: unknown })?.Data, `records.${index + 1}.member`));
      const total = data.reduce((sum, bytes) => sum + bytes.byteLength, 0);
      if (total > MAX_CALL_BYTES) {
        throw new FirehoseFault(
          "InvalidArgumentException",
          `Records size ${total} exceeds the limit of ${MAX_CALL_BYTES} bytes for a PutRecordBatch request`,
        );
      }
      const { failed, responses } = put(target, data, ++calls);
      return { FailedPutCount: failed, Encrypted: false, RequestResponses: responses };
    },
  };

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const requestId = randomUUID();
    const answer = (status: number, body: unknown, errorType?: string) => {
      const headers: Record<string, string> = { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": requestId };
      if (errorType) headers["x-amzn-errortype"] = errorType;
      response.writeHead(status, headers);
      response.end(JSON.stringify(body));
    };
    const target = request.headers["x-amz-target"];
    const action =
      typeof target === "string" && target.startsWith("Firehose_20150804.") ? target.slice("Firehose_20150804.".length) : undefined;
    const run = action ? actions[action] : undefined;
    if (request.method !== "POST" || !run) {
      answer(400, { __type: "UnknownOperationException", message: `unknown operation ${String(target)}` }, "UnknownOperationException");
      return;
    }
    try {
      const input = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, any>;
      answer(200, run(input));
    } catch (error) {
      if (error instanceof FirehoseFault) answer(400, { __type: error.type, message: error.message }, error.type);
      else answer(500, { __type: "InternalFailure", message: String(error) }, "InternalFailure");
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error) => {
      response.writeHead(500);
      response.end(String(error));
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
    records: (name) => [...(streams.get(name)?.records ?? [])],
    refuse(next) {
      rule = next;
    },
    async flush(name, putObject) {
      const found = stream(name);
      const pending = found.records.slice(found.flushed);
      if (pending.length === 0) return undefined;
      if (!found.bucket) throw new Error(`delivery stream ${name} has no S3 destination`);
      const now = new Date();
      const pad = (value: number) => String(value).padStart(2, "0");
      const [year, month, day, hour] = [now.getUTCFullYear(), pad(now.getUTCMonth() + 1), pad(now.getUTCDate()), pad(now.getUTCHours())];
      const stamp = `${year}-${month}-${day}-${hour}-${pad(now.getUTCMinutes())}-${pad(now.getUTCSeconds())}`;
      const key = `${found.prefix}${year}/${month}/${day}/${hour}/${name}-1-${stamp}-${randomUUID()}`;
      const body = Buffer.concat(pending.map((record) => record.data));
      await putObject(found.bucket, key, new Uint8Array(body));
      found.flushed += pending.length;
      return key;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
