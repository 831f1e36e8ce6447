import { fixture } from "./helpers.js";

/** Encodes a key as S3 notifications do: form-URL-encoding (space as `+`), `/` left literal. */
export function encodeS3Key(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, "/").replace(/%20/g, "+");
}

let sequence = 0x6b0448496700;
const nextSequencer = () => `00${(sequence++).toString(16).toUpperCase()}00`;

/** An S3 → Lambda ObjectCreated:Put notification, from the fixture, for this object. */
export function s3Created(object: { bucket: string; key: string; size: number; etag?: string }) {
  const event = fixture("s3", "object-created-put");
  const record = event.Records[0];
  record.eventTime = new Date().toISOString();
  record.s3.bucket.name = object.bucket;
  record.s3.bucket.arn = `arn:aws:s3:::${object.bucket}`;
  record.s3.object = { key: encodeS3Key(object.key), size: object.size, eTag: object.etag, sequencer: nextSequencer() };
  if (object.etag === undefined) delete record.s3.object.eTag;
  return event;
}

/** An S3 → Lambda ObjectRemoved:Delete notification, from the fixture, for this object. */
export function s3Deleted(object: { bucket: string; key: string }) {
  const event = fixture("s3", "object-removed-delete");
  const record = event.Records[0];
  record.eventTime = new Date().toISOString();
  record.s3.bucket.name = object.bucket;
  record.s3.object = { key: encodeS3Key(object.key), sequencer: nextSequencer() };
  return event;
}

/** An SQS batch (standard queue fixture) with these bodies; message ids are returned in order. */
export function sqsBatch(bodies: string[], options: { ids?: string[] } = {}) {
  const template = fixture("sqs", "single").Records[0];
  const ids = options.ids ?? bodies.map((_body, index) => `${Date.now().toString(36)}-${index}-${Math.random().toString(36).slice(2, 8)}`);
  const records = bodies.map((body, index) => ({
    ...template,
    messageId: ids[index],
    body,
    attributes: { ...template.attributes, SentTimestamp: String(Date.now()) },
  }));
  return { native: { Records: records }, ids };
}

/** A Kinesis batch (fixture shape) with these bodies; sequence numbers (56 digits) are returned in order. */
export function kinesisBatch(bodies: string[]) {
  const template = fixture("kinesis", "batch").Records[0];
  const base = BigInt("49659238418384737211349203412956758204918273546192837634");
  const ids = bodies.map((_body, index) => (base + BigInt(index) * 2209226365471545633766n).toString());
  const records = bodies.map((body, index) => ({
    ...template,
    kinesis: { ...template.kinesis, sequenceNumber: ids[index], data: Buffer.from(body).toString("base64") },
    eventID: `shardId-000000000000:${ids[index]}`,
  }));
  return { native: { Records: records }, ids };
}

/** A Firehose transformation invocation (fixture shape) with these bodies; record ids are returned in order. */
export function firehoseBatch(bodies: string[]) {
  const event = fixture("firehose", "transformation-direct-put");
  const template = event.records[0];
  const ids = bodies.map((_body, index) => `${36237831935954554491025693118234311091751776818553220471724579n + BigInt(index)}`);
  event.records = bodies.map((body, index) => ({ ...template, recordId: ids[index], data: Buffer.from(body).toString("base64") }));
  return { native: event, ids };
}

/** An HTTP API (payload 2.0) request from the fixture, with this method, path, query, headers and body. */
export function httpV2(request: {
  method: string;
  path: string;
  query: Record<string, string[]>;
  headers: Record<string, string>;
  body?: string;
}) {
  const event = fixture("apigw-v2", "http-api-post");
  const pairs = Object.entries(request.query).flatMap(([name, values]) => values.map((value): [string, string] => [name, value]));
  event.rawPath = request.path;
  event.rawQueryString = new URLSearchParams(pairs).toString();
  event.queryStringParameters = Object.fromEntries(Object.entries(request.query).map(([name, values]) => [name, values.join(",")]));
  event.headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]));
  delete event.cookies;
  delete event.pathParameters;
  event.requestContext.http.method = request.method;
  event.requestContext.http.path = request.path;
  event.requestContext.routeKey = "$default";
  event.routeKey = "$default";
  event.requestContext.timeEpoch = Date.now();
  if (request.body === undefined) delete event.body;
  else event.body = request.body;
  event.isBase64Encoded = false;
  return event;
}
