/** Scenarios 1 and 2: the cost of one invocation, raw handler against Sluice and the anchors. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Candidate, type InvocationOptions, type Summary, measureInvocations } from "./harness.js";
import { loadSluice } from "./sluice-bundle.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const fixture = (path: string) => JSON.parse(readFileSync(join(root, path), "utf8"));

export interface Scenario {
  name: string;
  /** Candidate name → summary (ns per invocation). The first candidate is the raw handler. */
  results: Map<string, Summary>;
  notes: string[];
}

/** A Lambda context, as the runtime passes it (only members some library reads). */
const lambdaContext = {
  awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e812345678",
  functionName: "bench",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:bench",
  memoryLimitInMB: "1024",
  logGroupName: "/aws/lambda/bench",
  logStreamName: "2026/11/23/[$LATEST]0",
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 30_000,
  done() {},
  fail() {},
  succeed() {},
};

type S3Event = { Records: Array<{ s3: { bucket: { name: string }; object: { key: string; size: number } } }> };

/** What every S3 handler does with a record: bucket, decoded key, size. */
let totalSize = 0;
let lastKey = "";
function work(bucket: string, key: string, size: number) {
  totalSize += size;
  lastKey = bucket + key;
}
export const workDone = () => [totalSize, lastKey] as const;

function s3Events() {
  const one = fixture("packages/aws/test/fixtures/s3/object-created-encoded-key.json") as S3Event;
  const record = one.Records[0] as S3Event["Records"][number];
  const hundred: S3Event = {
    Records: Array.from({ length: 100 }, (_unused, i) => ({
      ...record,
      s3: { ...record.s3, object: { ...record.s3.object, key: `readings/2026/11/23/14/caf%C3%A9+${i}%2Bprobe.ndjson`, size: 1000 + i } },
    })),
  };
  return { one, hundred };
}

const rawS3 = async (event: S3Event) => {
  for (const record of event.Records) {
    work(record.s3.bucket.name, decodeURIComponent(record.s3.object.key.replace(/\+/g, " ")), record.s3.object.size);
  }
};

async function awsS3Candidates(store: unknown): Promise<Array<{ name: string; handler: (event: S3Event) => Promise<unknown> }>> {
  const { defineFunction, triggers, toLambda } = await loadSluice();
  const fn = defineFunction({
    name: "bench-s3",
    trigger: triggers.objectCreated({ bucket: "sensor-raw" }),
    async handler(event) {
      work(event.bucket, event.key, event.size ?? 0);
    },
  });
  const sluice = toLambda(fn, { store: store as never });
  const out: Array<{ name: string; handler: (event: S3Event) => Promise<unknown> }> = [
    { name: "raw handler", handler: rawS3 },
    { name: "Sluice toLambda", handler: (event) => sluice(event, lambdaContext) },
  ];
  try {
    const { default: middy } = await import("@middy/core");
    const wrapped = middy(rawS3);
    out.push({ name: "Middy", handler: (event) => wrapped(event, lambdaContext as never) });
  } catch (error) {
    console.warn("Middy unavailable:", error);
  }
  try {
    const { parse } = await import("@aws-lambda-powertools/parser");
    const { S3Schema } = await import("@aws-lambda-powertools/parser/schemas/s3");
    out.push({
      name: "Powertools parser",
      handler: async (event) => {
        const parsed = parse(event, undefined, S3Schema);
        for (const record of parsed.Records) {
          work(record.s3.bucket.name, decodeURIComponent(record.s3.object.key.replace(/\+/g, " ")), record.s3.object.size ?? 0);
        }
      },
    });
  } catch (error) {
    console.warn("Powertools parser unavailable:", error);
  }
  return out;
}

type HttpV2 = { body?: string; isBase64Encoded: boolean; pathParameters?: Record<string, string> };

const rawHttp = async (event: HttpV2) => {
  const body = JSON.parse(event.isBase64Encoded ? Buffer.from(event.body ?? "", "base64").toString("utf8") : (event.body ?? ""));
  return {
    statusCode: 200,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ id: event.pathParameters?.id, received: body }),
  };
};

async function awsHttpCandidates(store: unknown): Promise<Array<{ name: string; handler: (event: HttpV2) => Promise<unknown> }>> {
  const { defineFunction, triggers, toLambda } = await loadSluice();
  const fn = defineFunction({
    name: "bench-http",
    trigger: triggers.http({ path: "/items/{id}", methods: ["POST"] }),
    async handler(event) {
      return { status: 200, body: { id: event.params?.id, received: await event.json() } };
    },
  });
  const sluice = toLambda(fn, { store: store as never });
  const out: Array<{ name: string; handler: (event: HttpV2) => Promise<unknown> }> = [
    { name: "raw handler", handler: rawHttp },
    { name: "Sluice toLambda", handler: (event) => sluice(event, lambdaContext) },
  ];
  try {
    const { default: middy } = await import("@middy/core");
    const wrapped = middy(rawHttp);
    out.push({ name: "Middy", handler: (event) => wrapped(event as never, lambdaContext as never) });
  } catch (error) {
    console.warn("Middy unavailable:", error);
  }
  try {
    const { parse } = await import("@aws-lambda-powertools/parser");
    const { APIGatewayProxyEventV2Schema } = await import("@aws-lambda-powertools/parser/schemas/api-gatewayv2");
    const { JSONStringified } = await import("@aws-lambda-powertools/parser/helpers");
    const { z } = await import("zod");
    const Item = z.object({ sensorId: z.string(), ts: z.string(), temperatureC: z.number(), humidityPct: z.number() });
    const Schema = APIGatewayProxyEventV2Schema.extend({ body: JSONStringified(Item) });
    out.push({
      name: "Powertools parser (event schema + JSONStringified body)",
      handler: async (event) => {
        const body = parse(event, undefined, Schema).body;
        return {
          statusCode: 200,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ id: event.pathParameters?.id, received: body }),
        };
      },
    });
  } catch (error) {
    console.warn("Powertools parser unavailable:", error);
  }
  try {
    const { Hono } = await import("hono");
    const { handle } = await import("hono/aws-lambda");
    const app = new Hono();
    app.post("/items/:id", async (c) => c.json({ id: c.req.param("id"), received: await c.req.json() }));
    const handler = handle(app);
    out.push({ name: "Hono (hono/aws-lambda)", handler: (event) => handler(event as never, lambdaContext as never) });
  } catch (error) {
    console.warn("Hono unavailable:", error);
  }
  try {
    const { ServerlessAdapter } = await import("@h4ad/serverless-adapter");
    const { ApiGatewayV2Adapter } = await import("@h4ad/serverless-adapter/adapters/aws");
    const { DefaultHandler } = await import("@h4ad/serverless-adapter/handlers/default");
    const { PromiseResolver } = await import("@h4ad/serverless-adapter/resolvers/promise");
    type Req = import("node:http").IncomingMessage;
    type Res = import("node:http").ServerResponse;
    // The adapter needs a framework; a plain Node (req, res) listener is the lightest there is, so
    // this measures the adapter itself (request/response emulation), not Express or Fastify.
    const app = (req: Req, res: Res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const id = (req.url ?? "").split("?")[0]?.split("/")[2];
        const payload = JSON.stringify({ id, received: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
        res.statusCode = 200;
        res.setHeader("content-type", "application/json");
        res.end(payload);
      });
    };
    const framework = { sendRequest: (a: typeof app, req: Req, res: Res) => a(req, res) };
    const handler = ServerlessAdapter.new(app)
      .setFramework(framework as never)
      .setHandler(new DefaultHandler())
      .setResolver(new PromiseResolver())
      .addAdapter(new ApiGatewayV2Adapter())
      .build();
    out.push({
      name: "serverless-adapter (plain listener)",
      handler: (event) => (handler as (e: unknown, c: unknown, cb: unknown) => Promise<unknown>)(event, lambdaContext, undefined),
    });
  } catch (error) {
    console.warn("serverless-adapter unavailable:", error);
  }
  return out;
}

async function gcpCandidates(store: unknown) {
  const { defineFunction, triggers, toCloudFunction } = await loadSluice();
  const fn = defineFunction({
    name: "bench-gcs",
    trigger: triggers.objectCreated({ bucket: "sensor-raw" }),
    async handler(event) {
      work(event.bucket, event.key, event.size ?? 0);
    },
  });
  const sluice = toCloudFunction(fn, { register: false, store: store as never, logLevel: "error" }) as (ce: unknown) => Promise<void>;
  type Ce = { data: { bucket: string; name: string; size: string } };
  // What a raw functions.cloudEvent handler does with a storage CloudEvent.
  const raw = async (ce: Ce) => work(ce.data.bucket, ce.data.name, Number(ce.data.size));
  return [
    { name: "raw handler", handler: raw as (ce: unknown) => Promise<unknown> },
    { name: "Sluice toCloudFunction", handler: sluice },
  ];
}

async function azureCandidates(store: unknown) {
  const { defineFunction, triggers, toAzureFunction } = await loadSluice();
  const { InvocationContext } = await import("@azure/functions");
  const fn = defineFunction({
    name: "bench-blob",
    trigger: triggers.objectCreated({ bucket: "sensor-raw" }),
    async handler(event) {
      work(event.bucket, event.key, event.size ?? 0);
    },
  });
  const sluice = toAzureFunction(fn, { register: false, store: store as never, logLevel: "error" }) as (
    input: unknown,
    context: unknown,
  ) => Promise<void>;
  const loaded = fixture("packages/azure/test/fixtures/eventgrid/blob-created.json");
  const context = new InvocationContext({
    invocationId: "bench-1",
    functionName: "bench-blob",
    triggerMetadata: loaded.triggerMetadata,
  });
  type Eg = { subject: string; data: { contentLength: number } };
  // A raw app.eventGrid v4 handler: container and blob name from the subject, size from the data.
  const raw = async (event: Eg, _context: unknown) => {
    const match = /^\/blobServices\/default\/containers\/([^/]+)\/blobs\/(.+)$/.exec(event.subject);
    if (!match) throw new Error("not a blob subject");
    work(match[1] as string, match[2] as string, event.data.contentLength);
  };
  return {
    input: loaded.input,
    context,
    candidates: [
      { name: "raw handler", handler: raw as (e: unknown, c: unknown) => Promise<unknown> },
      { name: "Sluice toAzureFunction", handler: sluice },
    ],
  };
}

export async function runInvocationBenchmarks(options: InvocationOptions, only = ""): Promise<Scenario[]> {
  const { LocalObjectStore } = await loadSluice();
  // An object store nobody calls: the handlers only read the event.
  const store = new LocalObjectStore({ root: mkdtempSync(join(tmpdir(), "sluice-bench-store-")) });
  const scenarios: Scenario[] = [];
  const { one, hundred } = s3Events();

  const asCandidates = <E>(list: Array<{ name: string; handler: (event: E) => Promise<unknown> }>, event: E): Candidate[] =>
    list.map(({ name, handler }) => ({ name, run: () => handler(event) }));

  const s3 = await awsS3Candidates(store);
  const json = JSON.stringify(one);
  scenarios.push({
    name: "AWS · S3, one record",
    results: await measureInvocations(
      [...asCandidates(s3, one), { name: "(for scale) JSON.parse of the event", run: () => JSON.parse(json) }],
      options,
    ),
    notes: [],
  });
  scenarios.push({ name: "AWS · S3, 100 records", results: await measureInvocations(asCandidates(s3, hundred), options), notes: [] });

  const httpEvent = fixture("packages/aws/test/fixtures/apigw-v2/http-api-post.json") as HttpV2;
  const http = await awsHttpCandidates(store);
  // Every answer must be the same 200 with the same JSON, or the comparison means nothing.
  for (const { name, handler } of http) {
    const answer = (await handler(httpEvent)) as { statusCode?: number; body?: string };
    if (answer?.statusCode !== 200 || !String(answer.body).includes('"s-001"')) console.warn(`${name} answered`, answer);
  }
  const httpJson = JSON.stringify(httpEvent);
  scenarios.push({
    name: "AWS · HTTP API v2, POST /items/{id} with JSON",
    results: await measureInvocations(
      [...asCandidates(http, httpEvent), { name: "(for scale) JSON.parse of the event", run: () => JSON.parse(httpJson) }],
      options,
    ),
    notes: [],
  });

  const ce = fixture("packages/gcp/test/fixtures/framework-observed/storage-finalized-structured.json");
  scenarios.push({
    name: "GCP · storage CloudEvent (finalized)",
    results: await measureInvocations(asCandidates(await gcpCandidates(store), ce), options),
    notes: [],
  });

  const azure = await azureCandidates(store);
  scenarios.push({
    name: "Azure · Event Grid BlobCreated (v4 app.eventGrid)",
    results: await measureInvocations(
      azure.candidates.map(({ name, handler }) => ({ name, run: () => handler(azure.input, azure.context) })),
      options,
    ),
    notes: [],
  });
  return scenarios.filter((scenario) => scenario.name.includes(only));
}
