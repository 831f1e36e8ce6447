import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createRequire, isBuiltin } from "node:module";
import { dirname, join, resolve } from "node:path";
import { ConfigurationError, type SluiceFunction, type Trigger } from "@sluice/core";
import { build, type Metafile, type Plugin } from "esbuild";
import { zipSync } from "fflate";
import { displayPath, PackageIndex, zipLayer } from "./layer.js";
import { type LayerSelection, planLayer } from "./layer-plan.js";
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
function wrapperSource(entry: string, fnName: string, target: BuildTarget, exportName?: string): string {
  const { module, wrap } = TARGETS[target];
  // With the export's name, only that export is imported, so a bundler can leave the entry's other
  // exports (and the packages only they import) out of this function's bundle.
  const imported =
    exportName === undefined
      ? `import * as entry from ${JSON.stringify(entry)};`
      : `import { ${/^[A-Za-z_$][\w$]*$/.test(exportName) ? exportName : JSON.stringify(exportName)} as __sluiceExport } from ${JSON.stringify(entry)};\nconst entry = [__sluiceExport];`;
  const lines = [
    `import { ${wrap} } from ${JSON.stringify(module)};`,
    imported,
    'const candidates = Object.values(entry).flatMap((value) => value && value.__sluice === "pipeline" ? value.stages : value && value.__sluice === "local" ? [value.fn] : [value]);',
    `const fn = candidates.find((value) => value && value.__sluice === "function" && value.name === ${JSON.stringify(fnName)});`,
    `if (!fn) throw new Error(${JSON.stringify(`the bundle lost function ${fnName}`)});`,
    // On GCP and Azure the wrap registers the function with the platform as a side effect; on AWS the
    // platform calls the exported handler.
    `export const handler = ${wrap}(fn);`,
  ];
  return lines.join("\n");
}

/** Checks that a target can serve a function's trigger. */
function checkTarget(fn: SluiceFunction, targetName: BuildTarget) {
  const target = TARGETS[targetName];
  if (!target) throw new ConfigurationError(`unknown target ${JSON.stringify(targetName)}: use aws, gcp or azure`);
  const trigger = fn.trigger as Trigger;
  if (!target.serves.includes(trigger.kind)) {
    throw new ConfigurationError(`function ${fn.name} has a ${trigger.kind} trigger, which the ${targetName} target cannot serve`);
  }
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

/**
 * `@sluice/gcp` loads the Pub/Sub client only when a function first sends, through an import bundlers do
 * not follow (it would otherwise cost every cold start, and every function that never sends, its gRPC
 * stack). A function with a stream or queue destination therefore needs it installed beside the bundle:
 * pinned to the version the project has, found from the entry or, failing that, from `@sluice/gcp`.
 */
async function gcpMessagingDependency(fn: SluiceFunction, entry: string): Promise<Record<string, string>> {
  const sends = [fn.destination, fn.onFailure].some((destination) => destination?.kind === "stream" || destination?.kind === "queue");
  if (!sends) return {};
  const pubsub = "@google-cloud/pubsub";
  try {
    return { [pubsub]: await resolvedVersion(dirname(entry), pubsub) };
  } catch {
    try {
      const gcpPackage = createRequire(join(dirname(entry), "noop.js")).resolve("@sluice/gcp/package.json");
      return { [pubsub]: await resolvedVersion(dirname(gcpPackage), pubsub) };
    } catch {
      throw new ConfigurationError(
        `function ${fn.name} sends to a stream or queue, which on GCP needs ${pubsub}: install it in the project (npm install ${pubsub}) so the build can pin its version`,
      );
    }
  }
}

async function describeFiles(root: string, paths: string[]): Promise<BuiltFile[]> {
  return Promise.all(paths.map(async (path) => ({ path: displayPath(join(root, path)), bytes: (await stat(join(root, path))).size })));
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
  checkTarget(fn, options.target);
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
      dependencies: {
        [framework]: await resolvedVersion(dirname(entry), framework),
        ...(await gcpMessagingDependency(fn, entry)),
      },
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

export interface LayerBuildOptions {
  entry: string;
  /** The functions to build; the layer holds what they share. */
  fns: EntryFunction[];
  /** Output directory: a folder per function and `layer.zip`. Default `.sluice/build/aws`. */
  out?: string;
  /** Which packages go to the layer. Default `"shared"`: those at least two of the functions import. */
  packages?: LayerSelection;
  /** The AWS SDK packages the layer does not hold: bundle them instead of using the runtime's. */
  bundleSdk?: boolean;
  /** Minify the bundles. Default true. */
  minify?: boolean;
}

/** A package copied into the layer. */
export interface LayerPackage {
  name: string;
  version: string;
  /** Where under `nodejs/node_modules/`: its name, or `<dependent>/node_modules/<name>` when nested. */
  location: string;
  /** The functions whose bundles import it (directly or through other packages). */
  usedBy: string[];
  /** Chosen by the selection, rather than present as a dependency of a chosen package. */
  chosen: boolean;
}

export interface LayerBuildResult {
  /** One zip per function, each bundle CommonJS (`index.js`) with the layer's packages left external. */
  functions: BuildResult[];
  layer: {
    artifact: string;
    bytes: number;
    unpackedBytes: number;
    files: number;
    packages: LayerPackage[];
    /** Compiled native files: they run only on the platform and architecture they were installed for. */
    nativeFiles: string[];
  };
  /** Per function, the packages (`name@version`) its own bundle holds. */
  bundled: Record<string, string[]>;
  /** Packages the bundles leave to the Lambda runtime (the AWS SDK, unless in the layer or `bundleSdk`). */
  runtime: string[];
  /** Chosen packages another version of which is in the layer: the functions that use them bundle them. */
  displaced: string[];
}

/** The AWS SDK v3 the Lambda Node.js runtime provides. */
const RUNTIME_SDK = /^@(aws-sdk|smithy)\//;

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return (specifier.startsWith("@") ? parts.slice(0, 2) : parts.slice(0, 1)).join("/");
}

const RESOLVING = Symbol("sluice-layer-resolving");

/**
 * Leaves to the layer each import that resolves to the very package (same directory, so same version)
 * the layer has at its top level, and the AWS SDK to the runtime unless bundled. The rest is bundled.
 */
function layerExternals(decide: (specifier: string, resolvedPath: string) => "layer" | "runtime" | undefined): Plugin {
  return {
    name: "sluice-layer",
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === RESOLVING || isBuiltin(args.path)) return undefined;
        const resolved = await build.resolve(args.path, {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: RESOLVING,
        });
        if (resolved.errors.length > 0 || resolved.external) return undefined;
        return decide(args.path, resolved.path) ? { path: args.path, external: true } : undefined;
      });
    },
  };
}

/**
 * Builds several functions for AWS Lambda with a layer: one zip per function and `layer.zip`, which holds
 * the packages they share under `nodejs/node_modules/`, with their own dependencies, as installed in the
 * entry's project. The function bundles are CommonJS, because Lambda reaches a layer through `NODE_PATH`
 * (`/opt/nodejs/node_modules`), which `require` honours and Node's ES module resolver ignores.
 *
 * @example
 * ```ts
 * const fns = await loadEntry("src/function.ts");
 * const { functions, layer } = await buildWithLayer({ entry: "src/function.ts", fns });
 * console.log(layer.artifact); // .sluice/build/aws/layer.zip
 * ```
 */
export async function buildWithLayer(options: LayerBuildOptions): Promise<LayerBuildResult> {
  for (const item of options.fns) checkTarget(item.fn, "aws");
  const names = options.fns.map((item) => item.fn.name);
  const repeated = names.find((name, position) => names.indexOf(name) !== position);
  if (repeated) throw new ConfigurationError(`two functions are named ${repeated}`);
  const entry = resolve(options.entry);
  const base = resolve(options.out ?? join(".sluice", "build", "aws"));
  const selection = options.packages ?? "shared";
  const minify = options.minify ?? true;
  const index = new PackageIndex();
  const own = index.packageOf(entry)?.id;
  const stdinOf = (item: EntryFunction) => ({
    contents: wrapperSource(entry, item.fn.name, "aws", item.exportName),
    resolveDir: dirname(entry),
    sourcefile: "sluice-entry.js",
    loader: "js" as const,
  });
  const common = {
    bundle: true,
    platform: "node" as const,
    format: "cjs" as const,
    target: "node20",
    keepNames: true,
    // ES modules bundled into CommonJS lose import.meta.url (createRequire(import.meta.url) in SDKs).
    define: { "import.meta.url": "__sluiceImportMetaUrl" },
    banner: { js: 'const __sluiceImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
    logLevel: "silent" as const,
    legalComments: "none" as const,
    metafile: true as const,
  };
  // The packages a bundle holds: those with code in its output (not tree-shaken away) that were reached
  // through a bare import (`"tslib"`), so that a sibling folder imported by a relative path stays the
  // user's code, whatever package.json it has.
  const packagesIn = (metafile: Metafile) => {
    const reachedByName = new Set<string>();
    for (const input of Object.values(metafile.inputs)) {
      for (const reached of input.imports) {
        if (reached.external || !reached.original || /^[./]/.test(reached.original) || reached.path.startsWith("<")) continue;
        const found = index.packageOf(resolve(reached.path));
        if (found && found.id !== own) reachedByName.add(found.id);
      }
    }
    const held = new Set<string>();
    for (const output of Object.values(metafile.outputs)) {
      for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
        const found = bytesInOutput > 0 && !path.startsWith("<") ? index.packageOf(resolve(path)) : undefined;
        if (found && reachedByName.has(found.id)) held.add(found.id);
      }
    }
    return [...held];
  };

  // First what each function's bundle would hold with nothing left out: that is what they share.
  const usage: Record<string, string[]> = {};
  for (const item of options.fns) {
    const { metafile } = await build({ ...common, stdin: stdinOf(item), write: false, outfile: join(base, item.fn.name, "index.js") });
    usage[item.fn.name] = packagesIn(metafile);
  }
  const packages = index.graph(Object.values(usage).flat());
  const plan = planLayer({ usage, packages, selection });
  if (plan.placements.size === 0) {
    throw new ConfigurationError(
      selection === "shared"
        ? `the functions (${names.join(", ")}) share no package: build several with --layer, or choose the layer's packages with --layer-packages`
        : "no package the functions import matches --layer-packages",
    );
  }

  // Only what this build writes is replaced: --out may name a folder that holds other things.
  await rm(join(base, "layer.zip"), { force: true });
  const runtime = new Set<string>();
  const bundled: Record<string, string[]> = {};
  const functions: BuildResult[] = [];
  for (const item of options.fns) {
    const fn = item.fn;
    const outDir = join(base, fn.name);
    await rm(outDir, { recursive: true, force: true });
    await mkdir(outDir, { recursive: true });
    const plugin = layerExternals((specifier, resolvedPath) => {
      const name = packageName(specifier);
      const found = index.packageOf(resolvedPath);
      if (found && found.name === name && plan.top.get(name) === found.id) return "layer";
      if (!options.bundleSdk && RUNTIME_SDK.test(name)) {
        runtime.add(name);
        return "runtime";
      }
      return undefined;
    });
    const { metafile } = await build({
      ...common,
      stdin: stdinOf(item),
      outfile: join(outDir, "index.js"),
      sourcemap: true,
      minify,
      plugins: [plugin],
    });
    bundled[fn.name] = packagesIn(metafile)
      .map((id) => packages.get(id) ?? index.packageOf(join(id, "package.json")))
      .filter((node) => node !== undefined)
      .map((node) => `${node.name}@${node.version}`)
      .sort();
    const zip = zipSync(
      {
        "index.js": new Uint8Array(await readFile(join(outDir, "index.js"))),
        "index.js.map": new Uint8Array(await readFile(join(outDir, "index.js.map"))),
      },
      { level: 9, mtime: new Date("2026-01-01T00:00:00Z") },
    );
    const artifact = join(outDir, `${fn.name}.zip`);
    await writeFile(artifact, zip);
    functions.push({
      target: "aws",
      functionName: fn.name,
      outDir,
      artifact,
      entryPoint: "index.handler",
      files: await describeFiles(outDir, ["index.js", `${fn.name}.zip`]),
    });
  }

  const content = await zipLayer(plan, index);
  const artifact = join(base, "layer.zip");
  await writeFile(artifact, content.zip);
  const chosen = new Set(plan.chosen);
  const layerPackages = [...plan.placements]
    .map(([location, id]) => {
      const node = packages.get(id) as NonNullable<ReturnType<typeof packages.get>>;
      const usedBy = names.filter((name) => usage[name]?.includes(id));
      return { name: node.name, version: node.version, location, usedBy, chosen: chosen.has(id) };
    })
    .sort((a, b) => (a.location < b.location ? -1 : a.location > b.location ? 1 : 0));
  return {
    functions,
    layer: {
      artifact,
      bytes: content.zip.byteLength,
      unpackedBytes: content.unpackedBytes,
      files: content.files,
      packages: layerPackages,
      nativeFiles: content.nativeFiles,
    },
    bundled,
    runtime: [...runtime].filter((name) => !plan.top.has(name)).sort(),
    displaced: plan.displaced.map((id) => {
      const node = packages.get(id) as NonNullable<ReturnType<typeof packages.get>>;
      return `${node.name}@${node.version}`;
    }),
  };
}
