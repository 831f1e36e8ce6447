/** Scenario 3: minified bundle size and import time over an empty handler, in fresh processes. */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { type Summary, summarise } from "./harness.js";

const benchDir = fileURLToPath(new URL("../", import.meta.url));
const root = fileURLToPath(new URL("../../", import.meta.url));
const src = (pkg: string) => join(root, "packages", pkg, "src/index.ts");

interface Entry {
  name: string;
  code: string;
  /** Packages the platform provides (left out of the bundle). */
  external: string[];
  /** Which clouds' SDKs must not appear in it. */
  foreign: string[];
}

const objectFn = `defineFunction({ name: "minimal", trigger: triggers.objectCreated({ bucket: "sensor-raw" }), async handler(event) { return event.key; } })`;

export const ENTRIES: Entry[] = [
  {
    name: "empty handler",
    code: "export const handler = async () => {};",
    external: [],
    foreign: ["@google-cloud/", "@azure/", "@aws-sdk/"],
  },
  {
    name: "Sluice · AWS (toLambda)",
    code: `import { defineFunction, triggers } from "@sluice/core"; import { toLambda } from "@sluice/aws"; export const handler = toLambda(${objectFn});`,
    external: ["@aws-sdk/*"],
    foreign: ["@google-cloud/", "@azure/", "googleapis"],
  },
  {
    name: "Sluice · GCP (toCloudFunction)",
    code: `import { defineFunction, triggers } from "@sluice/core"; import { toCloudFunction } from "@sluice/gcp"; export const handler = toCloudFunction(${objectFn});`,
    external: ["@google-cloud/*"],
    foreign: ["@aws-sdk/", "@smithy/", "@azure/"],
  },
  {
    name: "Sluice · Azure (toAzureFunction)",
    code: `import { defineFunction, triggers } from "@sluice/core"; import { toAzureFunction } from "@sluice/azure"; export default toAzureFunction(${objectFn});`,
    external: ["@azure/*"],
    foreign: ["@aws-sdk/", "@smithy/", "@google-cloud/"],
  },
  {
    name: "Sluice · local (toLocal)",
    code: `import { defineFunction, triggers } from "@sluice/core"; import { toLocal } from "@sluice/local"; export const fn = toLocal(${objectFn});`,
    external: [],
    foreign: ["@aws-sdk/", "@smithy/", "@google-cloud/", "@azure/"],
  },
  {
    name: "SDK baseline · AWS (client-s3 + lib-storage, external)",
    code: `import "@aws-sdk/client-s3"; import "@aws-sdk/lib-storage"; export const handler = async () => {};`,
    external: ["@aws-sdk/*"],
    foreign: ["@google-cloud/", "@azure/"],
  },
  {
    name: "SDK baseline · GCP (functions-framework + storage, external)",
    code: `import "@google-cloud/functions-framework"; import "@google-cloud/storage"; export const handler = async () => {};`,
    external: ["@google-cloud/*"],
    foreign: ["@aws-sdk/", "@azure/"],
  },
  {
    name: "SDK baseline · Azure (functions + storage-blob + identity, external)",
    code: `import "@azure/functions"; import "@azure/storage-blob"; import "@azure/identity"; export default async () => {};`,
    external: ["@azure/*"],
    foreign: ["@aws-sdk/", "@google-cloud/"],
  },
  {
    name: "Middy",
    code: `import middy from "@middy/core"; export const handler = middy(async (event) => event.Records.length);`,
    external: ["@aws-sdk/*"],
    foreign: ["@google-cloud/", "@azure/"],
  },
  {
    name: "Powertools parser (S3Schema, zod)",
    code: `import { parse } from "@aws-lambda-powertools/parser"; import { S3Schema } from "@aws-lambda-powertools/parser/schemas/s3"; export const handler = async (event) => parse(event, undefined, S3Schema).Records.length;`,
    external: ["@aws-sdk/*"],
    foreign: ["@google-cloud/", "@azure/"],
  },
  {
    name: "Hono (hono/aws-lambda)",
    code: `import { Hono } from "hono"; import { handle } from "hono/aws-lambda"; const app = new Hono(); app.post("/items/:id", (c) => c.json({ id: c.req.param("id") })); export const handler = handle(app);`,
    external: ["@aws-sdk/*"],
    foreign: ["@google-cloud/", "@azure/"],
  },
  {
    name: "serverless-adapter (API GW v2, plain listener)",
    code: `import { ServerlessAdapter } from "@h4ad/serverless-adapter"; import { ApiGatewayV2Adapter } from "@h4ad/serverless-adapter/adapters/aws"; import { DefaultHandler } from "@h4ad/serverless-adapter/handlers/default"; import { PromiseResolver } from "@h4ad/serverless-adapter/resolvers/promise";
const app = (req, res) => { res.statusCode = 200; res.end("{}"); };
export const handler = ServerlessAdapter.new(app).setFramework({ sendRequest: (a, req, res) => a(req, res) }).setHandler(new DefaultHandler()).setResolver(new PromiseResolver()).addAdapter(new ApiGatewayV2Adapter()).build();`,
    external: ["@aws-sdk/*"],
    foreign: ["@google-cloud/", "@azure/"],
  },
];

export interface BundleResult {
  name: string;
  bytes: number;
  /** Bytes of the output that come from packages/* (Sluice's own code). */
  sluiceBytes: number;
  /** Bytes of the output by top-level npm package. */
  byPackage: Array<[string, number]>;
  externalImports: string[];
  foreignFound: string[];
  file: string;
  error?: string;
  importMs?: Summary;
}

function packageOf(path: string): string {
  if (path.includes("/packages/") && !path.includes("node_modules")) return `@sluice/${path.split("/packages/")[1]?.split("/")[0]}`;
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*node_modules)/.exec(path);
  return match ? (match[1] as string) : "(entry)";
}

export async function bundleAll(outDir: string): Promise<BundleResult[]> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const results: BundleResult[] = [];
  for (const [index, entry] of ENTRIES.entries()) {
    const file = join(outDir, `entry-${index}.mjs`);
    try {
      const result = await build({
        stdin: { contents: entry.code, resolveDir: benchDir, loader: "ts", sourcefile: `entry-${index}.ts` },
        bundle: true,
        minify: true,
        platform: "node",
        target: "node20",
        format: "esm",
        write: false,
        metafile: true,
        logLevel: "silent",
        outfile: file,
        external: entry.external,
        // Bundled from source, as a user's bundler would from the published ESM (no build step needed here).
        alias: {
          "@sluice/core": src("core"),
          "@sluice/aws": src("aws"),
          "@sluice/gcp": src("gcp"),
          "@sluice/azure": src("azure"),
          "@sluice/local": src("local"),
        },
        // CommonJS dependencies bundled into ESM call require() for Node built-ins.
        banner: { js: `import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);` },
      });
      const output = result.outputFiles[0] as { contents: Uint8Array };
      writeFileSync(file, output.contents);
      const meta = Object.values(result.metafile.outputs)[0] as {
        inputs: Record<string, { bytesInOutput: number }>;
        imports: Array<{ path: string; external?: boolean }>;
      };
      const byPackage = new Map<string, number>();
      for (const [path, { bytesInOutput }] of Object.entries(meta.inputs)) {
        const name = packageOf(path);
        byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
      }
      const sluiceBytes = [...byPackage].filter(([name]) => name.startsWith("@sluice/")).reduce((sum, [, n]) => sum + n, 0);
      const externalImports = [...new Set(meta.imports.filter((i) => i.external && !i.path.startsWith("node:")).map((i) => i.path))];
      const everything = [...Object.keys(meta.inputs), ...externalImports];
      const foreignFound = [...new Set(entry.foreign.flatMap((prefix) => everything.filter((p) => p.includes(prefix)).map(() => prefix)))];
      results.push({
        name: entry.name,
        bytes: output.contents.byteLength,
        sluiceBytes,
        byPackage: [...byPackage].sort((a, b) => b[1] - a[1]),
        externalImports,
        foreignFound,
        file,
      });
    } catch (error) {
      results.push({
        name: entry.name,
        bytes: 0,
        sluiceBytes: 0,
        byPackage: [],
        externalImports: [],
        foreignFound: [],
        file,
        error: String(error),
      });
    }
  }
  return results;
}

/** Import time of each bundle in a fresh `node` process, interleaved, `runs` times each. */
export function measureImports(results: BundleResult[], runs: number): void {
  const times = new Map<string, number[]>(results.map((r) => [r.name, []]));
  const script = `const t = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - t));`;
  for (let run = 0; run < runs; run++) {
    for (const result of results) {
      if (result.error) continue;
      const child = spawnSync(process.execPath, ["--input-type=module", "-e", script, pathToFileURL(result.file).href], {
        cwd: benchDir,
        encoding: "utf8",
      });
      if (child.status !== 0) {
        result.error = `import failed: ${child.stderr.split("\n").slice(0, 3).join(" ")}`;
        continue;
      }
      times.get(result.name)?.push(Number(child.stdout));
    }
  }
  for (const result of results) if (!result.error) result.importMs = summarise(times.get(result.name) ?? []);
}
