import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { fixture } from "./helpers.js";

const from = (path: string) => fileURLToPath(new URL(path, import.meta.url));

async function bundle() {
  return build({
    entryPoints: [from("../../../examples/sensor-pipeline/src/aws.ts")],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    write: false,
    metafile: true,
    logLevel: "silent",
    outfile: "aws-bundle.mjs",
    // The workspace packages are bundled from source, so the test needs no build step first.
    alias: {
      "@sluice/aws": from("../src/index.ts"),
      "@sluice/core": from("../../core/src/index.ts"),
    },
  });
}

describe("the bundled Lambda entry", () => {
  it("holds @sluice/aws and the AWS SDK, and no @google-cloud/* or @azure/* code", async () => {
    const result = await bundle();
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((path) => path.includes("packages/aws/src/adapter.ts"))).toBe(true);
    expect(inputs.some((path) => path.includes("@aws-sdk/client-s3"))).toBe(true);
    expect(inputs.filter((path) => path.includes("@google-cloud/") || path.includes("@azure/"))).toEqual([]);
  });

  it("holds none of the SQS, Firehose and Kinesis SDKs: a function without stream or queue destinations never loads them", async () => {
    const result = await bundle();
    const inputs = Object.keys(result.metafile.inputs);
    // The messaging code itself is in (toLambda creates the default AwsMessaging); its SDKs are imported on first send only.
    expect(inputs.some((path) => path.includes("packages/aws/src/messaging.ts"))).toBe(true);
    expect(inputs.filter((path) => /@aws-sdk[/+]client-(sqs|firehose|kinesis)/.test(path))).toEqual([]);
  });

  it("loads as one file and answers Lambda events: an s3:TestEvent acknowledged, an HTTP request refused", async () => {
    const result = await bundle();
    const dir = await mkdtemp(join(tmpdir(), "sluice-bundle-"));
    try {
      const file = join(dir, "index.mjs");
      await writeFile(file, result.outputFiles[0]?.contents ?? new Uint8Array());
      const { handler } = (await import(pathToFileURL(file).href)) as { handler: (event: unknown, context: unknown) => Promise<unknown> };
      const context = { awsRequestId: "bundle-1", getRemainingTimeInMillis: () => 10_000 };
      expect(await handler(fixture("s3", "test-event"), context)).toBeUndefined();
      await expect(handler(fixture("apigw-v2", "get-no-body"), context)).rejects.toMatchObject({
        name: "EventTranslationError",
        source: "apigw-v2",
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
