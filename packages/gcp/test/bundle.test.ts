import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../../", import.meta.url));

describe("a bundle of the GCP entry", () => {
  it("holds the GCP adapter and Cloud Storage client and no AWS or Azure code", async () => {
    const result = await build({
      entryPoints: [`${root}examples/sensor-pipeline/src/gcp.ts`],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      write: false,
      metafile: true,
      logLevel: "silent",
      // The root tsconfig maps @sluice/* to their sources, so no package needs building first.
      tsconfig: `${root}tsconfig.json`,
      // The framework stays external: the platform's runtime loads its own copy, and registration must reach that one.
      external: ["@google-cloud/functions-framework"],
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((input) => input.includes("@aws-sdk/") || input.includes("@azure/"))).toEqual([]);
    // The bundle really holds the code it should, so an empty or broken bundle cannot pass.
    expect(inputs.some((input) => input.includes("packages/gcp/src/adapter.ts"))).toBe(true);
    expect(inputs.some((input) => input.includes("@google-cloud/storage/"))).toBe(true);
    expect(inputs.some((input) => input.includes("examples/sensor-pipeline/src/analysis.ts"))).toBe(true);
    expect(inputs.some((input) => input.includes("functions-framework"))).toBe(false);
  });
});
