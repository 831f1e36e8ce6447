import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";

/** Buckets every s3rver started here has (the tests' and the sensor demo's). S3 bucket names need at least 3 characters. */
export const BUCKETS = [
  "contract-raw",
  "contract-out",
  "contract-failed",
  "store-suite",
  "sensor-raw",
  "sensor-reports",
  "sensor-quarantine",
];

/** Starts s3rver 3.7.1 in-process on 127.0.0.1 and a free port, in a fresh temporary directory. */
export async function startS3rver(): Promise<{ server: S3rver; port: number; stop: () => Promise<void> }> {
  const directory = await mkdtemp(join(tmpdir(), "sluice-s3rver-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    directory,
    silent: true,
    configureBuckets: BUCKETS.map((name) => ({ name })),
  });
  const { port } = await server.run();
  return {
    server,
    port,
    stop: async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * A client for s3rver: its fixed credentials, path-style URLs, and checksums only when required. With the
 * SDK's default checksums a streamed PutObject is sent aws-chunked and s3rver stores the chunk framing as
 * the object (ENVIRONMENT.md).
 */
export function s3rverClient(port: number): S3Client {
  return new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}
