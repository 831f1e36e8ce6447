import { gunzipSync } from "node:zlib";
import { EventTranslationError, type ObjectEventData } from "@sluice/core";
import { describe, expect, it } from "vitest";
import {
  fromAlb,
  fromApiGatewayV1,
  fromApiGatewayV2,
  fromFirehose,
  fromInvoke,
  fromKinesis,
  fromS3EventBridge,
  fromS3Notification,
  fromScheduledEvent,
  fromSchedulerInput,
  fromSnsMessages,
  fromSnsObjectEvents,
  fromSqsMessages,
  fromSqsObjectEvents,
  isAlbHealthCheck,
  isS3TestEvent,
} from "../src/index.js";
import { fixture } from "./helpers.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const lower = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));

const KEY_A = "readings/2026/11/23/14/sensor-stream-1-2026-11-23-14-05-00-3f1c9a2e-7b1d-4c55-9a0e-2b8f6d1e4a10";
const KEY_B = "readings/2026/11/23/14/sensor-stream-1-2026-11-23-14-10-00-8c2d41f7-0e5a-4b93-a6d1-5f7e9b3c2a84.gz";
const KEY_OLD = "readings/2026/11/16/09/sensor-stream-1-2026-11-16-09-00-00-0b7e2c94-51a3-4d0f-8e6b-c1d2a3f4e5b6";

/** The object that five routes deliver (fixtures README, "One timeline, one object across envelopes"). */
const OBJECT_A: ObjectEventData = {
  kind: "object.created",
  id: `sensor-raw/${KEY_A}@006B044849675B0B1B`,
  time: "2026-11-23T14:06:01.482Z",
  bucket: "sensor-raw",
  key: KEY_A,
  provider: "aws",
  size: 48213,
  etag: "48b0686be352e7e6612f220a7ab23b76",
  version: "yZOPq8QYlmeraY6vbLqd.qxmQ08H11sf",
};
const OBJECT_B: ObjectEventData = {
  kind: "object.created",
  id: `sensor-raw/${KEY_B}@006B0449774D24B488`,
  time: "2026-11-23T14:11:03.907Z",
  bucket: "sensor-raw",
  key: KEY_B,
  provider: "aws",
  size: 9127,
  etag: "155365fc4ce77a48b3c6f1f280f17065",
};

describe("S3 notifications", () => {
  it("translates a PutObject on a versioned bucket", () => {
    expect(fromS3Notification(fixture("s3", "object-created-put"))).toStrictEqual([{ event: OBJECT_A }]);
  });

  it("decodes '+' as a space before percent-decoding, and treats versionId '' as absent", () => {
    const key = "readings/2026/11/23/14/Café Nord+Süd/probe@gw-7 résumé.csv";
    expect(fromS3Notification(fixture("s3", "object-created-encoded-key"))).toStrictEqual([
      {
        event: {
          kind: "object.created",
          id: `sensor-raw/${key}@006B0448902100A25E`,
          time: "2026-11-23T14:07:12.035Z",
          bucket: "sensor-raw",
          key,
          provider: "aws",
          size: 1874,
          etag: "84a0dfce57a328aa7daf517a1d6515dd",
        },
      },
    ]);
  });

  it("leaves version out on an unversioned bucket", () => {
    expect(fromS3Notification(fixture("s3", "object-created-no-version"))).toStrictEqual([{ event: OBJECT_B }]);
  });

  it("keeps a multipart etag with its part count", () => {
    const key = "readings/2026/11/23/14/sensor-archive-2026-11-23-14.parquet";
    expect(fromS3Notification(fixture("s3", "object-created-multipart"))).toStrictEqual([
      {
        event: {
          kind: "object.created",
          id: `sensor-raw/${key}@006B0449280327FFAE`,
          time: "2026-11-23T14:09:44.120Z",
          bucket: "sensor-raw",
          key,
          provider: "aws",
          size: 38797312,
          etag: "e871c266947cc791b4227cc67a209525-3",
          version: "LgBhd.JjvJaMFIsJBn0DdzLkkwKF8S6D",
        },
      },
    ]);
  });

  it("translates deletions: plain, delete marker, and lifecycle expiration without the ObjectRemoved prefix", () => {
    expect(fromS3Notification(fixture("s3", "object-removed-delete"))).toStrictEqual([
      {
        event: {
          kind: "object.deleted",
          id: `sensor-raw/${KEY_OLD}@006B044BAEDDC9CBCC`,
          time: "2026-11-23T14:20:30.005Z",
          bucket: "sensor-raw",
          key: KEY_OLD,
          provider: "aws",
        },
      },
    ]);
    expect(fromS3Notification(fixture("s3", "object-removed-delete-marker"))).toStrictEqual([
      {
        event: {
          kind: "object.deleted",
          id: `sensor-raw/${KEY_A}@006B044BCE86827089`,
          time: "2026-11-23T14:21:02.640Z",
          bucket: "sensor-raw",
          key: KEY_A,
          provider: "aws",
          etag: "d41d8cd98f00b204e9800998ecf8427e",
          version: "TIqzcIjv2YpHePBx3NchUn95an1wkNJ8",
        },
      },
    ]);
    expect(fromS3Notification(fixture("s3", "lifecycle-expiration-delete"))).toStrictEqual([
      {
        event: {
          kind: "object.deleted",
          id: `sensor-raw/${KEY_OLD}@006B0384D7A3A773BB`,
          time: "2026-11-23T00:12:07.000Z",
          bucket: "sensor-raw",
          key: KEY_OLD,
          provider: "aws",
        },
      },
    ]);
  });

  it("ignores a restore: the object already existed", () => {
    expect(fromS3Notification(fixture("s3", "restore-completed"))).toStrictEqual([
      { ignored: "S3 ObjectRestore:Completed is neither a creation nor a deletion" },
    ]);
  });

  it("delivers every record of a multi-record event, in order, kinds mixed", () => {
    expect(fromS3Notification(fixture("s3", "multiple-records"))).toStrictEqual([
      { event: OBJECT_A },
      { event: OBJECT_B },
      {
        event: {
          kind: "object.deleted",
          id: `sensor-raw/${KEY_OLD}@006B044DE8AA343E91`,
          time: "2026-11-23T14:30:00.017Z",
          bucket: "sensor-raw",
          key: KEY_OLD,
          provider: "aws",
        },
      },
    ]);
  });
});

describe("S3 through EventBridge", () => {
  it("reads etag, version-id and a time without milliseconds", () => {
    expect(fromS3EventBridge(fixture("s3-eventbridge", "object-created"))).toStrictEqual([
      { event: { ...OBJECT_A, id: "c3ebd9b4-511e-4822-8c68-97eeaf85ab08", time: "2026-11-23T14:06:01.000Z" } },
    ]);
    expect(fromS3EventBridge(fixture("s3-eventbridge", "object-created-event-version"))).toStrictEqual([
      { event: { ...OBJECT_B, id: "01c6bb9b-773a-4a7c-85ec-d3115c9c777d", time: "2026-11-23T14:11:04.000Z" } },
    ]);
  });

  it("translates deletions, the lifecycle one included, with their etag", () => {
    expect(fromS3EventBridge(fixture("s3-eventbridge", "object-deleted"))).toStrictEqual([
      {
        event: {
          kind: "object.deleted",
          id: "aa2a6357-7e12-4bd2-a117-0eeeb3847c84",
          time: "2026-11-23T14:21:02.000Z",
          bucket: "sensor-raw",
          key: KEY_A,
          provider: "aws",
          etag: "d41d8cd98f00b204e9800998ecf8427e",
          version: "TIqzcIjv2YpHePBx3NchUn95an1wkNJ8",
        },
      },
    ]);
    expect(fromS3EventBridge(fixture("s3-eventbridge", "object-deleted-lifecycle"))).toStrictEqual([
      {
        event: {
          kind: "object.deleted",
          id: "9571193b-f7e7-4fbe-874d-41a8bd89ff57",
          time: "2026-11-23T00:12:07.000Z",
          bucket: "sensor-raw",
          key: KEY_OLD,
          provider: "aws",
          etag: "5bca760457b4cd67e887a28a7209b8e2",
          version: "QKl.KzTZs2B5kEHjF9gn_wSuGlUbVP6L",
        },
      },
    ]);
  });

  it("ignores Object Restore Completed", () => {
    expect(fromS3EventBridge(fixture("s3-eventbridge", "object-restore-completed"))).toStrictEqual([
      { ignored: "S3 Object Restore Completed through EventBridge is neither a creation nor a deletion" },
    ]);
  });
});

describe("S3 notifications through SQS and SNS", () => {
  it("yields the same object from S3 → SQS, S3 → SNS and S3 → SNS → SQS", () => {
    expect(fromSqsObjectEvents(fixture("s3-sqs", "object-created"))).toStrictEqual([
      { id: "f276129a-0be0-45b7-a6b5-deee566fd544", value: [{ event: OBJECT_A }] },
    ]);
    expect(fromSnsObjectEvents(fixture("s3-sns", "object-created"))).toStrictEqual([[{ event: OBJECT_A }]]);
    expect(fromSqsObjectEvents(fixture("s3-sns-sqs", "object-created"))).toStrictEqual([
      { id: "3e59ad9f-80e8-4283-9fa1-74726b757fb0", value: [{ event: OBJECT_A }] },
    ]);
  });

  it("reads raw message delivery, where the body is the notification itself", () => {
    expect(fromSqsObjectEvents(fixture("s3-sns-sqs", "raw-message-delivery"))).toStrictEqual([
      { id: "2e8892c8-ecd0-41ec-ab9b-8f202b81315b", value: [{ event: OBJECT_B }] },
    ]);
  });

  it("turns the s3:TestEvent into an ignored item, never an error", () => {
    expect(fromSqsObjectEvents(fixture("s3-sqs", "test-event"))).toStrictEqual([
      { id: "ae863fbe-0ad6-4e88-9d58-efe483dfb302", value: [{ ignored: "s3:TestEvent" }] },
    ]);
    expect(fromSnsObjectEvents(fixture("s3-sns", "test-event"))).toStrictEqual([[{ ignored: "s3:TestEvent" }]]);
  });

  it("fails only the SQS message whose body is no S3 notification", () => {
    const event = fixture("s3-sqs", "object-created");
    event.Records.push({ ...event.Records[0], messageId: "not-s3", body: '{"sensorId":"s-001"}' });
    const [good, bad] = fromSqsObjectEvents(event);
    expect(good).toStrictEqual({ id: "f276129a-0be0-45b7-a6b5-deee566fd544", value: [{ event: OBJECT_A }] });
    expect(bad?.id).toBe("not-s3");
    const error = (bad as { error: EventTranslationError }).error;
    expect(error).toBeInstanceOf(EventTranslationError);
    expect(error).toMatchObject({ provider: "aws", source: "sqs", field: "Records[1].body" });
  });
});

describe("SQS and SNS messages", () => {
  it("translates a standard batch: string attributes, receive count, epoch-millisecond times", () => {
    const event = fixture("sqs", "standard");
    expect(fromSqsMessages(event)).toStrictEqual({
      data: {
        kind: "messages",
        source: "queue",
        name: "sluice-ingest",
        provider: "aws",
        messages: [
          {
            id: "29025e82-3f17-4297-ac8e-1b940c4714d8",
            time: "2026-11-23T14:19:00.183Z",
            body: bytes(event.Records[0].body),
            attributes: { contentType: "application/json", schemaVersion: "3" },
            attempt: 1,
          },
          {
            id: "4368f51a-3168-47b9-8613-5bd90c4bc72e",
            time: "2026-11-23T14:19:00.411Z",
            body: bytes(event.Records[1].body),
            attributes: {},
            attempt: 3,
          },
        ],
      },
      rejected: [],
      skipped: [],
      order: ["29025e82-3f17-4297-ac8e-1b940c4714d8", "4368f51a-3168-47b9-8613-5bd90c4bc72e"],
    });
  });

  it("keeps a FIFO queue's 20-digit sequence numbers as strings, with the group", () => {
    const event = fixture("sqs", "fifo");
    const { data } = fromSqsMessages(event);
    expect(data.name).toBe("sluice-ingest.fifo");
    expect(data.messages).toStrictEqual([
      {
        id: "121a776b-1e35-4990-9ed6-37528c6460a3",
        time: "2026-11-23T14:19:30.552Z",
        body: bytes('{"sensorId":"s-001","ts":"2026-11-23T14:05:12.250Z","temperatureC":21.5}'),
        attributes: {},
        attempt: 1,
        group: "s-001",
        sequence: "18885437211403485184",
      },
      {
        id: "873fe9bd-508d-4749-a26f-b8d6ffc3370a",
        time: "2026-11-23T14:19:30.553Z",
        body: bytes('{"sensorId":"s-001","ts":"2026-11-23T14:05:13.250Z","temperatureC":21.6}'),
        attributes: {},
        attempt: 1,
        group: "s-001",
        sequence: "18885437211403485440",
      },
    ]);
  });

  it("translates a single message with empty message attributes", () => {
    const event = fixture("sqs", "single");
    expect(fromSqsMessages(event).data.messages).toStrictEqual([
      {
        id: "ac74158e-2d2e-47a4-9109-794b11f9bc1a",
        time: "2026-11-23T14:22:47.006Z",
        body: bytes(event.Records[0].body),
        attributes: {},
        attempt: 1,
      },
    ]);
    expect(fromSqsMessages(event).data.messages[0]?.body.length).toBe(89);
  });

  it("unwraps an SNS envelope in an SQS body, so the body is what the producer published", () => {
    const event = fixture("s3-sns-sqs", "object-created");
    const envelope = JSON.parse(event.Records[0].body);
    const [message] = fromSqsMessages(event).data.messages;
    expect(message).toStrictEqual({
      id: "3e59ad9f-80e8-4283-9fa1-74726b757fb0",
      time: "2026-11-23T14:06:02.111Z",
      body: bytes(envelope.Message),
      attributes: {},
      attempt: 1,
    });
    expect(JSON.parse(new TextDecoder().decode(message?.body)).Records[0].s3.object.key).toBe(KEY_A);
  });

  it("skips an s3:TestEvent body in a messages batch", () => {
    expect(fromSqsMessages(fixture("s3-sqs", "test-event"))).toMatchObject({
      data: { messages: [] },
      skipped: ["ae863fbe-0ad6-4e88-9d58-efe483dfb302"],
    });
  });

  it("translates an SNS notification with a null Subject and {Type, Value} attributes", () => {
    const event = fixture("sns", "notification");
    expect(fromSnsMessages(event)).toStrictEqual({
      data: {
        kind: "messages",
        source: "topic",
        name: "sensor-raw-events",
        provider: "aws",
        messages: [
          {
            id: "49896569-7e70-4f2f-89ab-c99c72a4ed8a",
            time: "2026-11-23T14:23:11.930Z",
            body: bytes('{"sensorId":"s-001","ts":"2026-11-23T14:05:12.250Z","temperatureC":21.5,"humidityPct":48}'),
            attributes: { contentType: "application/json", schemaVersion: "3" },
          },
        ],
      },
      rejected: [],
      skipped: [],
      order: ["49896569-7e70-4f2f-89ab-c99c72a4ed8a"],
    });
  });
});

describe("Kinesis and Firehose", () => {
  it("keeps 56-digit sequence numbers as strings and reads float-second arrival times", () => {
    const sequences = [
      "49659238418384737211349203412956758204918273546192837634",
      "49659238418384737211349203412958967431283745091826403330",
      "49659238418384737211349203412961176657649216637460969026",
    ];
    const message = (sequence: string, time: string, group: string, body: string) => ({
      id: sequence,
      time,
      body: bytes(body),
      attributes: { shardId: "shardId-000000000000" },
      sequence,
      group,
    });
    expect(fromKinesis(fixture("kinesis", "batch"))).toStrictEqual({
      data: {
        kind: "messages",
        source: "stream",
        name: "sensor-readings",
        provider: "aws",
        messages: [
          message(
            sequences[0] as string,
            "2026-11-23T14:05:12.347Z",
            "s-001",
            '{"sensorId":"s-001","ts":"2026-11-23T14:05:12.250Z","temperatureC":21.5}',
          ),
          message(
            sequences[1] as string,
            "2026-11-23T14:05:12.953Z",
            "s-002",
            '{"sensorId":"s-002","ts":"2026-11-23T14:05:12.900Z","temperatureC":19.25}',
          ),
          message(
            sequences[2] as string,
            "2026-11-23T14:05:13.301Z",
            "s-001",
            '{"sensorId":"s-001","ts":"2026-11-23T14:05:13.250Z","temperatureC":21.6}',
          ),
        ],
      },
      rejected: [],
      skipped: [],
      order: sequences,
    });
  });

  it("delivers CloudWatch Logs data still gzip, as the producer wrote it", () => {
    const { data } = fromKinesis(fixture("kinesis", "cloudwatch-logs-gzip"));
    expect(data.messages.map(({ id, time, group }) => ({ id, time, group }))).toStrictEqual([
      {
        id: "49659238418384737211349203413002891735108924713528102914",
        time: "2026-11-23T14:24:07.804Z",
        group: "09ab1f4dfffdc6bd06b71eed5234fbc1",
      },
    ]);
    const logs = JSON.parse(gunzipSync(data.messages[0]?.body as Uint8Array).toString("utf8"));
    expect(logs.logGroup).toBe("/aws/lambda/sensor-gateway");
    expect(logs.logEvents.map((item: { timestamp: number }) => new Date(item.timestamp).toISOString())).toStrictEqual([
      "2026-11-23T14:24:05.012Z",
      "2026-11-23T14:24:05.031Z",
      "2026-11-23T14:24:05.039Z",
    ]);
  });

  it("skips a CloudWatch Logs control message", () => {
    expect(fromKinesis(fixture("kinesis", "cloudwatch-logs-control-message"))).toStrictEqual({
      data: { kind: "messages", source: "stream", name: "sensor-readings", provider: "aws", messages: [] },
      rejected: [],
      skipped: ["49659238418384737211349203412950000112233445566778899010"],
      order: ["49659238418384737211349203412950000112233445566778899010"],
    });
  });

  it("reads Firehose's millisecond arrival times and Kinesis metadata", () => {
    const ids = [
      "49659238418384737211349203412956758204918273546192837634000000",
      "49659238418384737211349203412958967431283745091826403330000000",
    ];
    expect(fromFirehose(fixture("firehose", "transformation-kinesis-source"))).toStrictEqual({
      data: {
        kind: "messages",
        source: "stream",
        name: "sensor-stream-1",
        provider: "aws",
        messages: [
          {
            id: ids[0],
            time: "2026-11-23T14:05:12.347Z",
            body: bytes('{"sensorId":"s-001","ts":"2026-11-23T14:05:12.250Z","temperatureC":21.5}\n'),
            attributes: { shardId: "shardId-000000000000" },
            group: "s-001",
            sequence: "49659238418384737211349203412956758204918273546192837634",
          },
          {
            id: ids[1],
            time: "2026-11-23T14:05:12.953Z",
            body: bytes('{"sensorId":"s-002","ts":"2026-11-23T14:05:12.900Z","temperatureC":19.25}\n'),
            attributes: { shardId: "shardId-000000000000" },
            group: "s-002",
            sequence: "49659238418384737211349203412958967431283745091826403330",
          },
        ],
      },
      rejected: [],
      skipped: [],
      order: ids,
    });
  });

  it("reads direct-PUT records, which have no Kinesis metadata", () => {
    const { data } = fromFirehose(fixture("firehose", "transformation-direct-put"));
    expect(data.messages).toStrictEqual([
      {
        id: "36237831935954554491025693118234311091751776818553220471724579",
        time: "2026-11-23T14:05:21.118Z",
        body: bytes('{"sensorId":"s-003","ts":"2026-11-23T14:05:20.000Z","temperatureC":17.75}\n'),
        attributes: {},
      },
      {
        id: "84015888260248361893271205997289291133940534948201004905209928",
        time: "2026-11-23T14:05:21.562Z",
        body: bytes('{"sensorId":"s-004","ts":"2026-11-23T14:05:20.500Z","temperatureC":22}\n'),
        attributes: {},
      },
    ]);
  });
});

describe("what AwsMessaging sends, read back", () => {
  const pointer =
    '{"provider":"aws","bucket":"sensor-claims","key":"sluice-claim-checks/9f2c4e1a7b3d5f8e0a6c2b4d8e1f3a5c7b9d0e2f4a6c8b1d3e5f7a9c0b2d4e6f","size":2345678,"contentType":"application/json"}';
  const plain = '{"sensorId":"s-002","ts":"2026-11-23T14:05:12.900Z","temperatureC":19.25}';

  it("decodes an SQS body sent as base64 and drops the encoding attribute; other bodies stay text", () => {
    expect(fromSqsMessages(fixture("sqs", "sluice-base64-body"))).toStrictEqual({
      data: {
        kind: "messages",
        source: "queue",
        name: "sensor-work",
        provider: "aws",
        messages: [
          {
            id: "6f1d2c3b-8a4e-4f7d-9b2c-1e0a3d5f7b91",
            time: "2026-11-23T14:20:00.120Z",
            body: Uint8Array.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xff, 0x00, 0xfe]),
            attributes: { "sluice-hops": "2" },
            attempt: 1,
          },
          {
            id: "0b9e6a77-2c41-4d3a-8f15-6a2e9c4d0e38",
            time: "2026-11-23T14:20:00.133Z",
            body: bytes('{"sensorId":"s-001","ts":"2026-11-23T14:05:12.250Z","temperatureC":21.5}'),
            attributes: { "sluice-hops": "2", sensor: "s-001" },
            attempt: 2,
          },
        ],
      },
      rejected: [],
      skipped: [],
      order: ["6f1d2c3b-8a4e-4f7d-9b2c-1e0a3d5f7b91", "0b9e6a77-2c41-4d3a-8f15-6a2e9c4d0e38"],
    });
  });

  it("rejects, alone, a body marked base64 that is not, or an unknown encoding", () => {
    const event = fixture("sqs", "sluice-base64-body");
    event.Records[0].body = "not base64!";
    event.Records[1].messageAttributes["sluice-body-encoding"] = {
      stringValue: "gzip",
      stringListValues: [],
      binaryListValues: [],
      dataType: "String",
    };
    const { data, rejected } = fromSqsMessages(event);
    expect(data.messages).toEqual([]);
    expect(rejected.map((item) => [item.error.field, item.error.reason])).toEqual([
      ["Records[0].body", "is marked base64 but is not base64"],
      ["Records[1].messageAttributes.sluice-body-encoding", 'must be "base64", got "gzip"'],
    ]);
  });

  it("unwraps a claim check on Kinesis into the pointer and the claim-check attribute", () => {
    const { data } = fromKinesis(fixture("kinesis", "sluice-claim-check"));
    expect(data.messages).toStrictEqual([
      {
        id: "49659238418384737211349203413011728640570809897063170066",
        time: "2026-11-23T14:20:01.412Z",
        body: bytes(pointer),
        attributes: { "sluice-claim-check": "1", shardId: "shardId-000000000001" },
        sequence: "49659238418384737211349203413011728640570809897063170066",
        group: "s-big",
      },
      {
        id: "49659238418384737211349203413013937866936281442697736210",
        time: "2026-11-23T14:20:01.436Z",
        body: bytes(plain),
        attributes: { shardId: "shardId-000000000001" },
        sequence: "49659238418384737211349203413013937866936281442697736210",
        group: "s-002",
      },
    ]);
  });

  it("unwraps a claim check on Firehose, newline and all; other records keep their bytes", () => {
    const { data } = fromFirehose(fixture("firehose", "sluice-claim-check"));
    expect(data.messages).toStrictEqual([
      {
        id: "49659238418384737211349203413016147093301752988332302354000000",
        time: "2026-11-23T14:20:02.118Z",
        body: bytes(pointer),
        attributes: { "sluice-claim-check": "1" },
      },
      {
        id: "49659238418384737211349203413018356319667224533966868498000000",
        time: "2026-11-23T14:20:02.131Z",
        body: bytes(`${plain}\n`),
        attributes: {},
      },
    ]);
  });

  it("leaves records that only look like claim checks as they are", () => {
    for (const text of [
      '{"sluice-claim-check":1}',
      '{"sluice-claim-check":{"bucket":"b"},"other":1}',
      '{"sluice-claim-check":{"bucket":"b"}',
    ]) {
      const event = fixture("kinesis", "sluice-claim-check");
      event.Records[0].kinesis.data = Buffer.from(text).toString("base64");
      expect(fromKinesis(event).data.messages[0]).toMatchObject({ body: bytes(text), attributes: { shardId: "shardId-000000000001" } });
    }
  });
});

describe("HTTP", () => {
  it("reads a REST proxy event's multi-value maps, not the last-value-only ones", () => {
    const event = fixture("apigw-v1", "rest-proxy-post");
    expect(fromApiGatewayV1(event)).toStrictEqual({
      kind: "http",
      id: "837eecbc-9eb7-4a2f-b1af-80e7ce064ca2",
      time: "2024-06-17T14:48:13.217Z",
      method: "POST",
      path: "/items/s-001",
      headers: { ...lower(event.headers), "x-sensor-tag": "a, b" },
      query: { tag: ["a", "b"], format: "json" },
      provider: "aws",
      params: { id: "s-001" },
      sourceIp: "198.51.100.7",
      body: { data: event.body, encoding: "utf8" },
    });
  });

  it("treats the console test's null maps and body as empty", () => {
    expect(fromApiGatewayV1(fixture("apigw-v1", "console-test"))).toStrictEqual({
      kind: "http",
      id: "b73db50f-2ae1-4dce-9e51-69460b2f3da7",
      time: "2026-11-23T14:20:05.771Z",
      method: "POST",
      path: "/items/{id}",
      headers: {},
      query: {},
      provider: "aws",
      sourceIp: "test-invoke-source-ip",
    });
  });

  it("keeps a binary body base64, decoding to the gzip the client sent", () => {
    const request = fromApiGatewayV1(fixture("apigw-v1", "binary-body"));
    expect(request.body?.encoding).toBe("base64");
    const raw = Buffer.from(request.body?.data ?? "", "base64");
    expect(raw.length).toBe(87);
    expect(gunzipSync(raw).toString("utf8")).toMatch(/^sensorId,ts,temperatureC/);
    expect(request.time).toBe("2026-11-23T14:15:09.402Z");
    expect(request.query).toStrictEqual({});
  });

  it("keeps a body flagged base64 that is not base64 as the text it is (v1 and v2)", () => {
    expect(fromApiGatewayV1(fixture("apigw-v1", "http-api-v1-base64-plain-text"))).toStrictEqual({
      kind: "http",
      id: "R7TSW/e4SaqS7xm=",
      time: "2026-11-23T14:12:40.056Z",
      method: "POST",
      path: "/readings",
      headers: { "content-type": "text/plain", host: "h7r2m9x4cd.execute-api.eu-west-1.amazonaws.com", "user-agent": "curl/8.5.0" },
      query: {},
      provider: "aws",
      sourceIp: "198.51.100.7",
      body: { data: "reading from s-001: 21.5 C", encoding: "utf8" },
    });
    const v2 = fromApiGatewayV2(fixture("apigw-v2", "base64-plain-text"));
    expect(v2.body).toStrictEqual({ data: "reading from s-001: 21.5 C", encoding: "utf8" });
    expect(v2.time).toBe("2026-11-23T14:12:41.803Z");
  });

  it("rebuilds repeated query parameters from rawQueryString and moves cookies into the cookie header (v2)", () => {
    const event = fixture("apigw-v2", "http-api-post");
    expect(fromApiGatewayV2(event)).toStrictEqual({
      kind: "http",
      id: "q0UUhgCz/7jabt8=",
      time: "2026-11-23T14:10:42.318Z",
      method: "POST",
      path: "/items/s-001",
      headers: { ...event.headers, cookie: "session=7f3e9a0c; theme=dark" },
      query: { tag: ["a", "b"], format: "json" },
      provider: "aws",
      params: { id: "s-001" },
      sourceIp: "198.51.100.7",
      body: { data: event.body, encoding: "utf8" },
    });
  });

  it("reads a v2 GET without body, cookies or query", () => {
    const event = fixture("apigw-v2", "get-no-body");
    expect(fromApiGatewayV2(event)).toStrictEqual({
      kind: "http",
      id: "n7jEdW5Xo2Jk6By=",
      time: "2026-11-23T14:16:00.009Z",
      method: "GET",
      path: "/items/s-001",
      headers: event.headers,
      query: {},
      provider: "aws",
      params: { id: "s-001" },
      sourceIp: "198.51.100.7",
    });
  });

  it("keeps a base64 form post base64, decoding to the form", () => {
    const request = fromApiGatewayV2(fixture("apigw-v2", "form-urlencoded-base64"));
    expect(request.body?.encoding).toBe("base64");
    expect(Buffer.from(request.body?.data ?? "", "base64").toString("utf8")).toBe("sensorId=s-001&temperatureC=21.5&note=north+wing");
  });

  it("reads function URL events", () => {
    const get = fixture("function-url", "get-no-body");
    expect(fromApiGatewayV2(get, "function-url")).toStrictEqual({
      kind: "http",
      id: "4cf9ee6b-d3f6-4974-a998-613e66d265c7",
      time: "2026-11-23T14:18:03.091Z",
      method: "GET",
      path: "/readings/s-001",
      headers: get.headers,
      query: { limit: "10", order: "desc" },
      provider: "aws",
      sourceIp: "198.51.100.7",
    });
    const post = fromApiGatewayV2(fixture("function-url", "post"), "function-url");
    expect(post).toMatchObject({ method: "POST", path: "/", time: "2026-11-23T14:17:29.568Z", id: "baf316af-1819-4f9e-a118-ca03930ca53d" });
    expect(post.body?.data.length).toBe(89);
  });

  it("decodes ALB query values, which the load balancer leaves encoded, in both header modes", () => {
    const single = fixture("alb", "single-value-headers");
    expect(fromAlb(single, "2026-11-23T14:30:00.000Z")).toStrictEqual({
      kind: "http",
      id: "Root=1-a2ed5362-287be94944aedd16f16cf142",
      time: "2026-11-23T14:30:00.000Z",
      method: "POST",
      path: "/readings",
      headers: single.headers,
      query: { label: "north wing", sensor: "s-001" },
      provider: "aws",
      body: { data: single.body, encoding: "utf8" },
    });
    const multi = fromAlb(fixture("alb", "multi-value-headers"), "2026-11-23T14:30:00.000Z");
    expect(multi.query).toStrictEqual({ since: "2026-11-23T13:00:00Z", tag: ["a", "b"] });
    expect(multi.headers.cookie).toBe("session=7f3e9a0c; theme=dark");
    expect(multi.body).toBeUndefined();
  });

  it("reads an ALB body of '' as no body", () => {
    const request = fromAlb(fixture("alb", "empty-body"), "2026-11-23T14:30:00.000Z");
    expect(request).toMatchObject({ method: "GET", path: "/", query: {} });
    expect(request.body).toBeUndefined();
  });
});

describe("schedules", () => {
  it("takes the rule name from resources[0], with or without version", () => {
    expect(fromScheduledEvent(fixture("schedule", "scheduled-event"))).toStrictEqual({
      kind: "schedule",
      id: "07102a14-0881-4568-991a-0f346e76bcfe",
      time: "2026-11-23T14:00:00.000Z",
      schedule: "sluice-hourly-rollup",
      provider: "aws",
    });
    expect(fromScheduledEvent(fixture("schedule", "scheduled-event-no-version"))).toStrictEqual({
      kind: "schedule",
      id: "bd4a28a8-90fb-4467-99c6-9638e2ee43fd",
      time: "2026-11-23T14:00:00.000Z",
      schedule: "sluice-hourly-rollup",
      provider: "aws",
    });
  });

  it("reads the Sluice Scheduler input, with schedule@scheduledTime as the id", () => {
    expect(fromSchedulerInput(fixture("scheduler", "sluice-input"))).toStrictEqual({
      kind: "schedule",
      id: "sluice-hourly-rollup@2026-11-23T14:00:00.000Z",
      time: "2026-11-23T14:00:00.000Z",
      schedule: "sluice-hourly-rollup",
      provider: "aws",
    });
  });

  it("rejects the template itself, placeholders and all", () => {
    expect(() => fromSchedulerInput(fixture("scheduler", "sluice-input-template"))).toThrow(EventTranslationError);
  });
});

describe("housekeeping and direct invocations", () => {
  it("recognises the bare s3:TestEvent and the ALB health check, and nothing else as them", () => {
    expect(isS3TestEvent(fixture("s3", "test-event"))).toBe(true);
    expect(isS3TestEvent(fixture("s3", "object-created-put"))).toBe(false);
    expect(isAlbHealthCheck(fixture("alb", "health-check"))).toBe(true);
    expect(isAlbHealthCheck(fixture("alb", "single-value-headers"))).toBe(false);
  });

  it("passes a direct invocation's payload through unchanged, with the invocation's id and time", () => {
    const payload = fixture("invoke", "arbitrary-payload");
    expect(fromInvoke(payload, "r-1", "2026-11-23T14:00:00.000Z")).toStrictEqual({
      kind: "invoke",
      id: "r-1",
      time: "2026-11-23T14:00:00.000Z",
      payload: { sensorId: "s-001", backfill: true },
      provider: "aws",
    });
  });
});
