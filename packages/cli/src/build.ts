import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, relative, resolve } from "node:path";
import { ConfigurationError, type SluiceFunction, type Trigger } from "@sluice/core";
import { build } from "esbuild";
import { zipSync } from "fflate";
import type { EntryFunction } from "./load-entry.js";

export type BuildTarget = "aws" | "gcp" | "azure";

export interface BuildOptions {
  entry: string;
  /** The function to build, as found in the entry. */
  fn: EntryFunction;
  target: BuildTarget;
  /** Output directory. Default `.sluice/build/<target>/<function name>`. */
  out?: string;
  /** AWS: bundle the AWS SDK instead of using the one the Lambda Node.js runtime provides. */
  bundleSdk?: boolean;
  /** Minify the bundle (source maps are written either way). Default true. */
  minify?: boolean;
}

export interface BuiltFile {
  path: string;
  bytes: number;
}

export interface BuildResult {
  target: BuildTarget;
  functionName: string;
  outDir: string;
  /** The file or folder to deploy. */
  artifact: string;
  files: BuiltFile[];
  /** How the platform calls it, e.g. `index.handler` on Lambda. */
  entryPoint: string;
}

/** The adapter each target wraps a function with, and the trigger kinds it serves. */
const TARGETS: Record<BuildTarget, { module: string; wrap: string; serves: ReadonlyArray<Trigger["kind"]> }> = {
  aws: { module: "@sluice/aws", wrap: "toLambda", serves: ["object.created", "object.deleted", "http", "schedule", "messages", "invoke"] },
  gcp: {
    module: "@sluice/gcp",
    wrap: "toCloudFunction",
    serves: ["object.created", "object.deleted", "http", "schedule", "messages", "invoke"],
  },
  azure: {
    module: "@sluice/azure",
    wrap: "toAzureFunction",
    serves: ["object.created", "object.deleted", "http", "schedule", "messages", "invoke"],
  },
};

/**
 * The module a target's bundle starts from: it imports the user's entry, finds the function by name
 * (alone, wrapped by toLocal, or a pipeline's stage), and hands it to the target's adapter.
 */
function wrapperSource(entry: string, fnName: string, target: BuildTarget): string {
  const { module, wrap } = TARGETS[target];
  const lines = [
    `import { ${wrap} } from ${JSON.stringify(module)};`,
    `import * as entry from ${JSON.stringify(entry)};`,
    'const candidates = Object.values(entry).flatMap((value) => value && value.__sluice === "pipeline" ? value.stages : value && value.__sluice === "local" ? [value.fn] : [value]);',
    `const fn = candidates.find((value) => value && value.__sluice === "function" && value.name === ${JSON.stringify(fnName)});`,
    `if (!fn) throw new Error(${JSON.stringify(`the bundle lost function ${fnName}`)});`,
    // On GCP and Azure the wrap registers the function with the platform as a side effect; on AWS the
    // platform calls the exported handler.
    `export const handler = ${wrap}(fn);`,
  ];
  return lines.join("\n");
}

/** The version of a package as the entry's project resolves it, for the artifact's package.json. */
async function resolvedVersion(fromDir: string, name: string): Promise<string> {
  const require = createRequire(join(fromDir, "noop.js"));
  let path: string;
  try {
    path = require.resolve(`${name}/package.json`);
  } catch {
    // Packages whose exports hide package.json: walk up from the main file.
    let dir = dirname(require.resolve(name));
    for (;;) {
      try {
        const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as { name?: string; version?: string };
        if (manifest.name === name && manifest.version) return manifest.version;
      } catch {
        // keep walking
      }
      const parent = dirname(dir);
      if (parent === dir) throw new ConfigurationError(`cannot find the version of ${name}`);
      dir = parent;
    }
  }
  return (JSON.parse(await readFile(path, "utf8")) as { version: string }).version;
}

async function describeFiles(root: string, paths: string[]): Promise<BuiltFile[]> {
  return Promise.all(
    paths.map(async (path) => ({ path: relative(process.cwd(), join(root, path)) || path, bytes: (await stat(join(root, path))).size })),
  );
}

/**
 * Builds a deployable artifact of one function for one cloud: a Lambda zip, a Cloud Functions source
 * folder, or an Azure Functions app folder. The function's own code and Sluice are bundled; each cloud's
 * runtime pieces (the Lambda SDK, the Functions Framework) stay external where the platform provides them.
 *
 * @example
 * ```ts
 * const [fn] = await loadEntry("src/function.ts");
 * const result = await buildFunction({ entry: "src/function.ts", fn, target: "aws" });
 * console.log(result.artifact); // .sluice/build/aws/analyze-sensors/analyze-sensors.zip
 * ```
 */
export async function buildFunction(options: BuildOptions): Promise<BuildResult> {
  const fn: SluiceFunction = options.fn.fn;
  const trigger = fn.trigger as Trigger;
  const target = TARGETS[options.target];
  if (!target) throw new ConfigurationError(`unknown target ${JSON.stringify(options.target)}: use aws, gcp or azure`);
  if (!target.serves.includes(trigger.kind)) {
    throw new ConfigurationError(`function ${fn.name} has a ${trigger.kind} trigger, which the ${options.target} target cannot serve`);
  }
  const entry = resolve(options.entry);
  const outDir = resolve(options.out ?? join(".sluice", "build", options.target, fn.name));
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const minify = options.minify ?? true;
  const stdin = {
    contents: wrapperSource(entry, fn.name, options.target),
    resolveDir: dirname(entry),
    sourcefile: "sluice-entry.js",
    loader: "js" as const,
  };

  if (options.target === "aws") {
    await build({
      stdin,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      outfile: join(outDir, "index.mjs"),
      sourcemap: true,
      minify,
      // Sluice's errors are named after their classes (EventTranslationError, …): keep those names.
      keepNames: true,
      external: options.bundleSdk ? [] : ["@aws-sdk/*", "@smithy/*"],
      // CommonJS dependencies inside an ES module bundle still call require().
      banner: {
        js: 'import { createRequire as __sluiceCreateRequire } from "node:module"; const require = __sluiceCreateRequire(import.meta.url);',
      },
      logLevel: "silent",
      legalComments: "none",
    });
    const zip = zipSync(
      {
        "index.mjs": new Uint8Array(await readFile(join(outDir, "index.mjs"))),
        "index.mjs.map": new Uint8Array(await readFile(join(outDir, "index.mjs.map"))),
      },
      { level: 9, mtime: new Date("2026-01-01T00:00:00Z") },
    );
    const artifact = join(outDir, `${fn.name}.zip`);
    await writeFile(artifact, zip);
    return {
      target: "aws",
      functionName: fn.name,
      outDir,
      artifact,
      entryPoint: "index.handler",
      files: await describeFiles(outDir, ["index.mjs", `${fn.name}.zip`]),
    };
  }

  if (options.target === "gcp") {
    const framework = "@google-cloud/functions-framework";
    await build({
      stdin,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      outfile: join(outDir, "index.js"),
      sourcemap: true,
      minify,
      // Sluice's errors are named after their classes (EventTranslationError, …): keep those names.
      keepNames: true,
      // The Functions Framework is the runtime that calls the function: Cloud Build installs it from package.json.
      external: [framework],
      banner: {
        js: 'import { createRequire as __sluiceCreateRequire } from "node:module"; const require = __sluiceCreateRequire(import.meta.url);',
      },
      logLevel: "silent",
      legalComments: "none",
    });
    // toCloudFunction registers HTTP and invoke functions as HTTP, the rest as CloudEvent functions.
    const signature = trigger.kind === "http" || trigger.kind === "invoke" ? "http" : "cloudevent";
    const manifest = {
      name: fn.name,
      version: "1.0.0",
      private: true,
      type: "module",
      main: "index.js",
      engines: { node: ">=20" },
      scripts: { start: `functions-framework --target=${fn.name} --signature-type=${signature}` },
      dependencies: { [framework]: await resolvedVersion(dirname(entry), framework) },
    };
    await writeFile(join(outDir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    return {
      target: "gcp",
      functionName: fn.name,
      outDir,
      artifact: outDir,
      entryPoint: fn.name,
      files: await describeFiles(outDir, ["index.js", "package.json"]),
    };
  }

  await build({
    stdin,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    outfile: join(outDir, "dist", "index.js"),
    sourcemap: true,
    minify,
    keepNames: true,
    // The Functions host's worker provides this module to @azure/functions at run time; everything else ships.
    external: ["@azure/functions-core"],
    // ES modules bundled into CommonJS lose import.meta.url (the Azure SDK calls createRequire with it).
    define: { "import.meta.url": "__sluiceImportMetaUrl" },
    banner: { js: 'const __sluiceImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    logLevel: "silent",
    legalComments: "none",
  });
  const host = { version: "2.0", extensionBundle: { id: "Microsoft.Azure.Functions.ExtensionBundle", version: "[4.*, 5.0.0)" } };
  await writeFile(join(outDir, "host.json"), `${JSON.stringify(host, null, 2)}\n`);
  const manifest = { name: fn.name, version: "1.0.0", private: true, main: "dist/index.js", engines: { node: ">=20" } };
  await writeFile(join(outDir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return {
    target: "azure",
    functionName: fn.name,
    outDir,
    artifact: outDir,
    entryPoint: "dist/index.js",
    files: await describeFiles(outDir, ["dist/index.js", "host.json", "package.json"]),
  };
}
