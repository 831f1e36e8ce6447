import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { getTestServer } from "@google-cloud/functions-framework/testing";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { createSubscription, createTopic, pubsubEmulator, pubsubSkipReason, puller, uniqueName } from "./pubsub-helpers.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const skip = pubsubSkipReason();
const run = promisify(execFile);

/** Bundles a module written on the fly, as `sluice build` would: everything in, the framework out. */
async function bundle(source: string): Promise<{ code: Uint8Array; inputs: string[] }> {
  const result = await build({
    stdin: { contents: source, resolveDir: `${root}packages/gcp/test`, loader: "ts" },
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    write: false,
    metafile: true,
    logLevel: "silent",
    tsconfig: `${root}tsconfig.json`,
    external: ["@google-cloud/functions-framework"],
    banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
  });
  return { code: result.outputFiles[0]?.contents ?? new Uint8Array(), inputs: Object.keys(result.metafile.inputs) };
}

async function loadFrom<T>(dir: string, code: Uint8Array): Promise<T> {
  const file = join(dir, "index.mjs");
  await writeFile(file, code);
  return (await import(/* @vite-ignore */ pathToFileURL(file).href)) as T;
}

describe("the Pub/Sub client library in bundles", () => {
  it("is never in a bundle; where it is not installed, the first send says what to install", async () => {
    const { code, inputs } = await bundle(`
      import { PubsubMessaging } from "../src/messaging.js";
      const messaging = new PubsubMessaging({ projectId: "p" });
      const error = await messaging.send({ kind: "queue", name: "readings" }, [{ body: new Uint8Array([1]), attributes: {} }]).catch((caught) => caught);
      const { name, code, provider, service, field, message } = error;
      console.log(JSON.stringify({ name, code, provider, service, field, message }));
    `);
    expect(inputs.filter((input) => /@google-cloud\/pubsub|google-gax|@grpc\//.test(input))).toEqual([]);
    // Run by plain Node outside the workspace, where nothing resolves @google-cloud/pubsub: what a
    // deployment without it meets.
    const dir = await mkdtemp(join(tmpdir(), "sluice-no-pubsub-"));
    try {
      await writeFile(join(dir, "index.mjs"), code);
      const { stdout } = await run(process.execPath, [join(dir, "index.mjs")], { cwd: dir });
      const error = JSON.parse(stdout.trim().split("\n").pop() as string);
      expect(error).toMatchObject({
        name: "GcpMessagingError",
        code: "MISSING_SDK",
        provider: "gcp",
        service: "pubsub",
        field: "@google-cloud/pubsub",
      });
      expect(error.message).toMatch(/install @google-cloud\/pubsub .*to send to Pub\/Sub topics/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(skip !== undefined)("is loaded by a bundled function's first send where it is installed, and publishes", async () => {
    const topic = uniqueName("bundled");
    await createTopic(topic);
    await createSubscription(topic, `${topic}-pull`);
    const { host, projectId } = pubsubEmulator();
    const saved = { host: process.env.PUBSUB_EMULATOR_HOST, project: process.env.GOOGLE_CLOUD_PROJECT };
    process.env.PUBSUB_EMULATOR_HOST = host;
    process.env.GOOGLE_CLOUD_PROJECT = projectId;
    const { code } = await bundle(`
      import { defineFunction, destinations, triggers } from "@sluice/core";
      import { toCloudFunction } from "../src/index.js";
      toCloudFunction(
        defineFunction({
          name: "bundled-${topic}",
          trigger: triggers.invoke(),
          destination: destinations.queue({ name: "${topic}" }),
          handler: () => ["one", "two"],
        }),
        { logLevel: "error" },
      );
    `);
    // Inside packages/gcp, where the library is installed (as a deployment's node_modules would hold it).
    const dir = await mkdtemp(join(`${root}packages/gcp/`, ".bundle-"));
    try {
      await loadFrom(dir, code);
      const server = getTestServer(`bundled-${topic}`);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
      try {
        const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        });
        expect(response.status).toBe(200);
      } finally {
        server.closeAllConnections?.();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      const pulled = await puller(`${topic}-pull`).pull(2);
      expect(pulled.map(({ message }) => Buffer.from(message.data ?? "", "base64").toString()).sort()).toEqual(["one", "two"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
      for (const [name, value] of [
        ["PUBSUB_EMULATOR_HOST", saved.host],
        ["GOOGLE_CLOUD_PROJECT", saved.project],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});
