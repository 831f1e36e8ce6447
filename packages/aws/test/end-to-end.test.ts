import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHandlers } from "../../../examples/sensor-pipeline/src/aws.js";
import { configFromEnv } from "../../../examples/sensor-pipeline/src/function.js";
import { generateFirehoseFiles } from "../../../examples/sensor-pipeline/src/generate.js";
import { lambdaContext } from "./helpers.js";
import { s3rverClient, startS3rver } from "../../../tools/emulators/src/index.js";

// Its own s3rver, in this worker, because the event emitter must be in the process that reads it.
let s3: Awaited<ReturnType<typeof startS3rver>>;
const emitted: unknown[] = [];

beforeAll(async () => {
  s3 = await startS3rver();
  s3.server.on("event", (event: unknown) => emitted.push(event));
});
afterAll(async () => s3?.stop());

async function waitForEvent(key: string): Promise<any> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const found = emitted.find((event: any) => event.Records?.[0]?.s3?.object?.key === key);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`s3rver emitted no event for ${key}`);
}

describe("sensor pipeline end to end on s3rver", () => {
  const config = configFromEnv({});
  // One plain and one gzip file, both with bad lines; different seeds so the keys differ.
  const files = [
    { ...(generateFirehoseFiles({ sensors: 6, hours: 0.25, badLineRate: 0.02, seed: 7 }).next().value as any), label: "plain" },
    { ...(generateFirehoseFiles({ sensors: 6, hours: 0.25, badLineRate: 0.02, gzip: true, seed: 8 }).next().value as any), label: "gzip" },
  ];

  for (const file of files) {
    it(`analyses a ${file.label} file from the event s3rver emits for its put, writing the report and the quarantine, then the hourly roll-up`, async () => {
      expect(file.badLines).toBeGreaterThan(0);
      const client = s3rverClient(s3.port);
      await client.send(new PutObjectCommand({ Bucket: config.rawBucket, Key: file.key, Body: file.body }));
      const event = await waitForEvent(file.key);
      // What s3rver sends is its own shape, not a fixture: eventVersion 2.0 and an ARN with spaces.
      expect(event.Records[0].eventVersion).toBe("2.0");
      expect(event.Records[0].s3.bucket.arn).toContain(" ");

      const handlers = createHandlers({ s3: client, logLevel: "error" }, config);
      expect(await handlers.analyze(event, lambdaContext())).toBeUndefined();

      const read = async (bucket: string, key: string) =>
        (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString("utf8");
      const report = JSON.parse((await read(config.reportBucket, `reports/${file.key}.json`)) ?? "null");
      expect(report.source).toEqual({ bucket: config.rawBucket, key: file.key });
      expect(report.readings).toBe(file.readings);
      expect(report.badLines).toBe(file.badLines);
      expect(report.sensorCount).toBe(6);

      const quarantine = ((await read(config.quarantineBucket, `failed/${file.key}.ndjson`)) ?? "").trim().split("\n");
      expect(quarantine).toHaveLength(file.badLines);
      for (const line of quarantine) {
        expect(JSON.parse(line)).toMatchObject({
          function: "analyze-sensors",
          provider: "aws",
          event: { key: file.key },
          line: expect.any(Number),
        });
      }

      // The second stage runs on the event s3rver emits for the report the first stage wrote.
      const reportEvent = await waitForEvent(`reports/${file.key}.json`);
      expect(await handlers.rollUp(reportEvent, lambdaContext())).toBeUndefined();
      const [, year, month, day, hour] = file.key.split("/");
      const rollUp = JSON.parse((await read(config.reportBucket, `rollups/${year}-${month}-${day}/${hour}.json`)) ?? "null");
      expect(rollUp.reports).toContain(`reports/${file.key}.json`);
      expect(rollUp.readings).toBeGreaterThanOrEqual(file.readings);
    });
  }
});
