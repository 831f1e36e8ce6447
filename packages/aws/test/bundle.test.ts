import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const from = (path: string) => fileURLToPath(new URL(path, import.meta.url));

describe("the bundled Lambda entry", () => {
  it("holds @sluice/aws and the AWS SDK, and no @google-cloud/* or @azure/* code", async () => {
    const result = await build({
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
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((path) => path.includes("packages/aws/src/adapter.ts"))).toBe(true);
    expect(inputs.some((path) => path.includes("@aws-sdk/client-s3"))).toBe(true);
    expect(inputs.filter((path) => path.includes("@google-cloud/") || path.includes("@azure/"))).toEqual([]);
  });
});
