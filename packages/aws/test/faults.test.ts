import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { defineFunction, destinations, triggers } from "@sluice/core";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toLambda } from "../src/index.js";
import { lambdaContext } from "./helpers.js";
import { s3Created } from "./native.js";
import { BUCKETS, s3rverClient } from "../../../tools/emulators/src/index.js";

// Its own s3rver, on a directory it knows: the first test stops it mid-run and starts it again there.
let directory: string;
let port: number;
let server: S3rver;
const startOn = async (at: number) => {
  server = new S3rver({ address: "127.0.0.1", port: at, directory, silent: true, configureBuckets: BUCKETS.map((name) => ({ name })) });
  port = (await server.run()).port;
};
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "sluice-s3rver-faults-"));
  await startOn(0);
});
afterAll(async () => {
  await server?.close().catch(() => undefined);
  await rm(directory, { recursive: true, force: true });
});

describe("faults on s3rver", () => {
  it("skips, without failing, an event whose object was deleted before it was read", async () => {
    const client = s3rverClient(port);
    let calls = 0;
    const fn = defineFunction({
      name: "object-gone",
      trigger: triggers.objectCreated({ bucket: "sensor-raw" }),
      async handler(event) {
        calls++;
        return event.text();
      },
    });
    await expect(
      toLambda(fn, { s3: client, logLevel: "error" })(
        s3Created({ bucket: "sensor-raw", key: "readings/never-there.ndjson", size: 1 }),
        lambdaContext(),
      ),
    ).resolves.toBeUndefined();
    expect(calls).toBe(1);
  });
  it("fails the invocation, so Lambda retries, when the destination store stops mid-run; no report claims success", async () => {
    const client = s3rverClient(port);
    await client.send(new PutObjectCommand({ Bucket: "sensor-raw", Key: "readings/fault.ndjson", Body: '{"a":1}\n' }));
    const fn = defineFunction({
      name: "store-goes-down",
      trigger: triggers.objectCreated({ bucket: "sensor-raw" }),
      destination: destinations.objectStore({ bucket: "sensor-reports", key: ({ event }) => `reports/${event.key}.json` }),
      async handler(event) {
        const text = await event.text();
        // The store goes away after the input was read and before the report is written.
        await server.close();
        return { bytes: text.length };
      },
    });
    const handler = toLambda(fn, { s3: client, logLevel: "error" });
    await expect(handler(s3Created({ bucket: "sensor-raw", key: "readings/fault.ndjson", size: 8 }), lambdaContext())).rejects.toThrow();

    // Back up on the same directory and port: the report was never written, so nothing looks done.
    await startOn(port);
    {
      await expect(
        client.send(new GetObjectCommand({ Bucket: "sensor-reports", Key: "reports/readings/fault.ndjson.json" })),
      ).rejects.toMatchObject({
        name: "NoSuchKey",
      });
      // The retry Lambda makes then succeeds.
      await expect(
        toLambda(defineFunction({ ...fn, handler: async (event) => ({ bytes: (await event.text()).length }) }), {
          s3: client,
          logLevel: "error",
        })(s3Created({ bucket: "sensor-raw", key: "readings/fault.ndjson", size: 8 }), lambdaContext()),
      ).resolves.toBeUndefined();
      const report = await client.send(new GetObjectCommand({ Bucket: "sensor-reports", Key: "reports/readings/fault.ndjson.json" }));
      expect(JSON.parse((await report.Body?.transformToString()) ?? "null")).toEqual({ bytes: 8 });
    }
  });
});
