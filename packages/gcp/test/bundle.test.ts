import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { getTestServer } from "@google-cloud/functions-framework/testing";
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
    // The Pub/Sub client library is loaded by the first send only, through a specifier bundlers do not follow.
    expect(inputs.filter((input) => /@google-cloud\/pubsub|google-gax|@grpc\/|protobufjs/.test(input))).toEqual([]);
    expect(inputs.some((input) => input.includes("packages/gcp/src/messaging.ts"))).toBe(true);
    // The bundle really holds the code it should, so an empty or broken bundle cannot pass.
    expect(inputs.some((input) => input.includes("packages/gcp/src/adapter.ts"))).toBe(true);
    expect(inputs.some((input) => input.includes("@google-cloud/storage/"))).toBe(true);
    expect(inputs.some((input) => input.includes("examples/sensor-pipeline/src/analysis.ts"))).toBe(true);
    expect(inputs.some((input) => input.includes("functions-framework"))).toBe(false);
  });

  it("runs: loading the bundle registers its functions with the framework, which answer as the sources do", async () => {
    const result = await build({
      entryPoints: [`${root}examples/sensor-pipeline/src/gcp.ts`],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      write: false,
      logLevel: "silent",
      tsconfig: `${root}tsconfig.json`,
      external: ["@google-cloud/functions-framework"],
      // CommonJS dependencies inside an ES module bundle still call require().
      banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
    });
    // Inside packages/gcp, so that the bundle's external import finds the same framework this test uses.
    const dir = await mkdtemp(join(fileURLToPath(new URL("..", import.meta.url)), ".bundle-"));
    try {
      const file = join(dir, "index.mjs");
      await writeFile(file, result.outputFiles[0]?.contents ?? new Uint8Array());
      await import(/* @vite-ignore */ pathToFileURL(file).href);
      const server = getTestServer("roll-up-hourly");
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
        const notAnEvent = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: '{"hello":"world"}' });
        expect([notAnEvent.status, notAnEvent.headers.get("x-google-status")]).toEqual([500, "error"]);
        const metadataUpdate = {
          specversion: "1.0",
          id: "1",
          source: "//storage.googleapis.com/projects/_/buckets/sensor-reports",
          type: "google.cloud.storage.object.v1.metadataUpdated",
          data: { bucket: "sensor-reports", name: "reports/readings/x.json" },
        };
        const ignored = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/cloudevents+json" },
          body: JSON.stringify(metadataUpdate),
        });
        expect(ignored.status).toBe(204);
      } finally {
        server.closeAllConnections?.();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
