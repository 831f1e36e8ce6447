import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const workspace = new URL("../../..", import.meta.url).pathname;
const tsc = join(workspace, "node_modules", ".bin", "tsc");
const typeRoots = join(workspace, "node_modules", "@types");

/** The packages users install; each is packed as it would be published (pnpm pack rewrites workspace: versions). */
const PACKAGES = ["core", "local", "aws", "gcp", "azure"];

let scratch: string;
const tarballs: Record<string, string> = {};

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "sluice-packaging-"));
  const packed = join(scratch, "packed");
  await mkdir(packed);
  for (const name of PACKAGES) {
    await run("pnpm", ["--reporter=silent", "build"], { cwd: join(workspace, "packages", name) });
    await run("pnpm", ["pack", "--pack-destination", packed], { cwd: join(workspace, "packages", name) });
  }
  for (const file of await readdir(packed)) {
    const match = /^sluice-(\w+)-/.exec(file);
    if (match?.[1]) tarballs[match[1]] = join(packed, file);
  }
});
afterAll(async () => rm(scratch, { recursive: true, force: true }));

/**
 * A function defined, wrapped for a cloud (which must not fail to load or type-check), and run with the
 * local provider: the same program in every kind of project.
 */
const PROGRAM = (imports: string, wrap = "") => `${imports}
const root = process.argv[2];
const countLines = defineFunction({
  name: "count-lines",
  trigger: triggers.objectCreated({ bucket: "raw", prefix: "in/" }),
  destination: destinations.objectStore({ bucket: "out", key: ({ event }) => \`\${event.key}.json\` }),
  async handler(event) {
    let lines = 0;
    for await (const _line of event.lines()) lines++;
    return { lines };
  },
});
const store = new LocalObjectStore({ root });
await store.put("raw", "in/a.ndjson", "1\\n2\\n3\\n");
const outcome = await toLocal(countLines, { store, logLevel: "error" }).invoke({ kind: "object.created", bucket: "raw", key: "in/a.ndjson" });
${wrap ? `const cloudHandler = ${wrap};\nif (typeof cloudHandler !== "function") throw new Error("no handler");` : ""}
console.log(JSON.stringify(outcome));
`;

async function project(name: string, files: Record<string, string>, manifest: Record<string, unknown>, provider: "aws" | "gcp" | "azure") {
  const dir = join(scratch, name);
  await mkdir(join(dir, "src"), { recursive: true });
  await writeFile(join(dir, "package.json"), JSON.stringify({ name, version: "1.0.0", private: true, ...manifest }, null, 2));
  for (const [file, content] of Object.entries(files)) await writeFile(join(dir, file), content);
  // npm, not pnpm, and no workspace: the tarballs are all there is.
  // Only the cloud this project uses: its SDK comes from the registry, and no other cloud's does.
  const wanted = ["core", "local", provider].map((pkg) => tarballs[pkg] as string);
  await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", ...wanted], { cwd: dir });
  const installed = await readdir(join(dir, "node_modules"));
  const otherClouds = { aws: ["@google-cloud", "@azure"], gcp: ["@aws-sdk", "@azure"], azure: ["@aws-sdk", "@google-cloud"] }[provider];
  expect(installed.filter((name) => otherClouds.includes(name))).toEqual([]);
  return dir;
}

async function runProgram(dir: string, entry: string): Promise<unknown> {
  const data = join(dir, "data");
  const { stdout } = await run("node", [entry, data], { cwd: dir });
  return JSON.parse(stdout.trim().split("\n").at(-1) as string);
}

const tsconfig = (compilerOptions: Record<string, unknown>) =>
  JSON.stringify({
    compilerOptions: {
      strict: true,
      target: "ES2022",
      outDir: "dist",
      rootDir: "src",
      skipLibCheck: false,
      typeRoots: [typeRoots],
      types: ["node"],
      ...compilerOptions,
    },
    include: ["src"],
  });

const expected = { status: "ok", value: { lines: 3 } };

const ESM_IMPORTS =
  'import { defineFunction, destinations, triggers } from "@sluice/core";\nimport { LocalObjectStore, toLocal } from "@sluice/local";';

describe("packed packages in fresh projects", () => {
  it("TypeScript ESM with moduleResolution nodenext, with @sluice/aws: type-checks under strict and runs", async () => {
    const dir = await project(
      "ts-nodenext",
      {
        "tsconfig.json": tsconfig({ module: "nodenext", moduleResolution: "nodenext" }),
        "src/index.ts": PROGRAM(`${ESM_IMPORTS}\nimport { toLambda } from "@sluice/aws";`, "toLambda(countLines)"),
      },
      { type: "module" },
      "aws",
    );
    await run(tsc, ["-p", "tsconfig.json"], { cwd: dir });
    expect(await runProgram(dir, "dist/index.js")).toEqual(expected);
  });

  it("TypeScript with moduleResolution bundler, with @sluice/gcp: type-checks under strict and runs", async () => {
    const dir = await project(
      "ts-bundler",
      {
        "tsconfig.json": tsconfig({ module: "esnext", moduleResolution: "bundler" }),
        "src/index.ts": PROGRAM(`${ESM_IMPORTS}\nimport { toCloudFunction } from "@sluice/gcp";`, "toCloudFunction(countLines)"),
      },
      { type: "module" },
      "gcp",
    );
    await run(tsc, ["-p", "tsconfig.json"], { cwd: dir });
    expect(await runProgram(dir, "dist/index.js")).toEqual(expected);
  });

  it("CommonJS with require, with @sluice/aws", async () => {
    const program = PROGRAM(
      'const { defineFunction, destinations, triggers } = require("@sluice/core");\nconst { LocalObjectStore, toLocal } = require("@sluice/local");\nconst { toLambda } = require("@sluice/aws");',
      "toLambda(countLines)",
    );
    const dir = await project(
      "cjs",
      { "src/index.cjs": `(async () => {\n${program}\n})().catch((error) => { console.error(error); process.exit(1); });\n` },
      { type: "commonjs" },
      "aws",
    );
    expect(await runProgram(dir, "src/index.cjs")).toEqual(expected);
  });

  it("CommonJS with require, with @sluice/azure", async () => {
    const program = PROGRAM(
      'const { defineFunction, destinations, triggers } = require("@sluice/core");\nconst { LocalObjectStore, toLocal } = require("@sluice/local");\nconst { toAzureFunction } = require("@sluice/azure");',
      "toAzureFunction(countLines)",
    );
    const dir = await project(
      "cjs-azure",
      { "src/index.cjs": `(async () => {\n${program}\n})().catch((error) => { console.error(error); process.exit(1); });\n` },
      { type: "commonjs" },
      "azure",
    );
    expect(await runProgram(dir, "src/index.cjs")).toEqual(expected);
  });

  it("plain JavaScript ESM, with @sluice/gcp", async () => {
    const dir = await project(
      "js-esm",
      { "src/index.mjs": PROGRAM(`${ESM_IMPORTS}\nimport { toCloudFunction } from "@sluice/gcp";`, "toCloudFunction(countLines)") },
      { type: "module" },
      "gcp",
    );
    expect(await runProgram(dir, "src/index.mjs")).toEqual(expected);
  });
});
