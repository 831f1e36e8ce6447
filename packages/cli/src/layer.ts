import { existsSync, readFileSync, realpathSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { ConfigurationError } from "@sluice/core";
import { zipSync } from "fflate";
import type { LayerPlan, PackageNode } from "./layer-plan.js";

interface Manifest {
  name?: string;
  version?: string;
  main?: string;
  files?: string[];
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** Finds the package a file belongs to: the nearest enclosing directory whose package.json has a name. */
export class PackageIndex {
  private readonly roots = new Map<string, PackageNode | null>();
  private readonly manifests = new Map<string, Manifest>();

  /** The package holding `file`, or undefined for a file in no named package. */
  packageOf(file: string): PackageNode | undefined {
    return this.rootOf(dirname(file)) ?? undefined;
  }

  private rootOf(dir: string): PackageNode | null {
    const cached = this.roots.get(dir);
    if (cached !== undefined) return cached;
    let found: PackageNode | null = null;
    const manifestPath = join(dir, "package.json");
    // A package.json without a name ({"type": "commonjs"} in dist/cjs) marks a folder, not a package.
    const manifest = existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, "utf8")) as Manifest) : undefined;
    if (manifest?.name) {
      const id = realpathSync(dir);
      this.manifests.set(id, manifest);
      found = this.roots.get(id) ?? { id, name: manifest.name, version: manifest.version ?? "0.0.0", dependencies: {} };
      this.roots.set(id, found);
    } else {
      const parent = dirname(dir);
      found = parent === dir ? null : this.rootOf(parent);
    }
    this.roots.set(dir, found);
    return found;
  }

  manifest(id: string): Manifest {
    const manifest = this.manifests.get(id);
    if (!manifest) throw new Error(`package ${id} was not read`);
    return manifest;
  }

  /**
   * The packages `ids` depend on, transitively, with each one's dependencies resolved the way Node
   * resolves them from where it is installed (its own node_modules, then each enclosing one), which is
   * what pnpm's and npm's layouts both rely on.
   */
  graph(ids: Iterable<string>): Map<string, PackageNode> {
    const graph = new Map<string, PackageNode>();
    const pending = [...ids];
    for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
      if (graph.has(id)) continue;
      const node = this.rootOf(id);
      if (!node || node.id !== id) throw new Error(`${id} is not a package directory`);
      const manifest = this.manifest(id);
      const dependencies: Record<string, string> = {};
      const optionalPeers = new Set(
        Object.entries(manifest.peerDependenciesMeta ?? {})
          .filter(([, meta]) => meta.optional)
          .map(([name]) => name),
      );
      // Required peers resolve from the dependent's place too (pnpm links them beside it), so the layer
      // needs them as much as ordinary dependencies. Optional peers (vitest for @sluice/core/testing)
      // are for code the functions do not run: a function that does import one has it chosen itself.
      const names = new Set([
        ...Object.keys(manifest.dependencies ?? {}),
        ...Object.keys(manifest.optionalDependencies ?? {}),
        ...Object.keys(manifest.peerDependencies ?? {}).filter((name) => !optionalPeers.has(name)),
      ]);
      for (const name of names) {
        const resolved = resolvePackageDir(id, name);
        if (resolved) {
          dependencies[name] = resolved;
          pending.push(resolved);
        } else if (manifest.dependencies?.[name]) {
          throw new ConfigurationError(`${node.name} depends on ${name}, which is not installed: run your package manager's install`);
        }
      }
      const complete = { ...node, dependencies };
      graph.set(id, complete);
    }
    return graph;
  }
}

function resolvePackageDir(from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = join(dir, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return realpathSync(candidate);
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

// Type declarations are never loaded at run time; a package's own node_modules is laid out by the plan.
const NEVER = /(^|\/)(node_modules|\.git|\.DS_Store)(\/|$)|\.d\.[cm]?ts(\.map)?$/;
// npm publishes these whatever `files` says.
const ALWAYS = /^(package\.json|readme(\.[^/]*)?|licen[cs]e(\.[^/]*)?|notice(\.[^/]*)?)$/i;

function globToRegExp(pattern: string): RegExp {
  const source = pattern.replace(/^\.?\//, "").replace(/\/$/, "");
  let body = "";
  for (let index = 0; index < source.length; index++) {
    const char = source[index] as string;
    if (source.startsWith("**/", index)) {
      body += "(?:.*/)?";
      index += 2;
    } else if (source.startsWith("**", index)) {
      body += ".*";
      index += 1;
    } else if (char === "*") body += "[^/]*";
    else if (char === "?") body += "[^/]";
    else body += /[.+^${}()|[\]\\]/.test(char) ? `\\${char}` : char;
  }
  // A pattern names a file or a directory: match it, or anything under it.
  return new RegExp(`^${body}(?:/.*)?$`);
}

/**
 * The files a package needs at run time, relative to its directory: what npm would publish (its
 * `files` field, or everything), without nested node_modules and type declarations. For a package from
 * the registry that is what was installed; for a workspace package it leaves its sources and tests out.
 */
export async function productionFiles(dir: string, manifest: { files?: string[]; main?: string }): Promise<string[]> {
  const include = manifest.files?.filter((pattern) => !pattern.startsWith("!")).map(globToRegExp);
  const exclude = (manifest.files ?? []).filter((pattern) => pattern.startsWith("!")).map((pattern) => globToRegExp(pattern.slice(1)));
  const main = manifest.main?.replace(/^\.\//, "");
  const found: string[] = [];
  const walk = async (at: string) => {
    for (const entry of await readdir(join(dir, at), { withFileTypes: true })) {
      const path = at ? `${at}/${entry.name}` : entry.name;
      if (NEVER.test(path)) continue;
      const isDirectory = entry.isDirectory() || (entry.isSymbolicLink() && (await stat(join(dir, path))).isDirectory());
      if (isDirectory) {
        await walk(path);
        continue;
      }
      const top = !at;
      if ((top && ALWAYS.test(path)) || path === main) found.push(path);
      else if (!include || (include.some((pattern) => pattern.test(path)) && !exclude.some((pattern) => pattern.test(path))))
        found.push(path);
    }
  };
  await walk("");
  return found.sort();
}

export interface LayerContent {
  /** The zip's bytes. */
  zip: Uint8Array;
  /** Total size of the files, unpacked. */
  unpackedBytes: number;
  files: number;
  /** Files that are compiled native code (`*.node`): built for this machine's platform and architecture. */
  nativeFiles: string[];
}

/** Reads the planned packages' production files and zips them under `nodejs/node_modules/`. */
export async function zipLayer(plan: LayerPlan, index: PackageIndex): Promise<LayerContent> {
  const entries: Record<string, Uint8Array> = {};
  const nativeFiles: string[] = [];
  let unpackedBytes = 0;
  const filesOf = new Map<string, string[]>();
  for (const [location, id] of [...plan.placements].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    let files = filesOf.get(id);
    if (!files) {
      files = await productionFiles(id, index.manifest(id));
      filesOf.set(id, files);
    }
    for (const file of files) {
      const bytes = new Uint8Array(await readFile(join(id, file)));
      const path = `nodejs/node_modules/${location}/${file}`;
      entries[path] = bytes;
      unpackedBytes += bytes.byteLength;
      if (file.endsWith(".node")) nativeFiles.push(path);
    }
  }
  const zip = zipSync(entries, { level: 9, mtime: new Date("2026-01-01T00:00:00Z") });
  return { zip, unpackedBytes, files: Object.keys(entries).length, nativeFiles };
}

/** A path for messages: relative to the working directory when under it. */
export function displayPath(path: string): string {
  const shown = relative(process.cwd(), path);
  return shown && !shown.startsWith(`..${sep}`) ? shown : path;
}
