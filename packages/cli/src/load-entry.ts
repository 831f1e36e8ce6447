import { randomUUID } from "node:crypto";
import { rm } from "node:fs/promises";
import { basename, dirname, extname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigurationError, isPipeline, isSluiceFunction, type SluiceFunction } from "@sluice/core";
import { isLocalFunction, type LocalFunction } from "@sluice/local";
import { build } from "esbuild";

/** A function found in an entry file, with the export it came from. */
export interface EntryFunction {
  exportName: string;
  fn: SluiceFunction;
  /** Present when the entry exported a function already wrapped by `toLocal`. */
  local?: LocalFunction;
}

/**
 * Loads an entry file (TypeScript or JavaScript) and returns every Sluice function it exports, bare,
 * wrapped by `toLocal`, or as the stages of a pipeline. TypeScript is compiled with esbuild into a temporary module beside the entry, so
 * that its imports resolve from the entry's own `node_modules`; the temporary file is removed at once.
 *
 * @example
 * ```ts
 * for (const { exportName, fn } of await loadEntry("src/function.ts")) console.log(exportName, fn.name);
 * ```
 */
export async function loadEntry(entry: string): Promise<EntryFunction[]> {
  const path = resolve(entry);
  const extension = extname(path);
  let url: string;
  let temporary: string | undefined;
  if ([".ts", ".mts", ".cts", ".tsx"].includes(extension)) {
    temporary = join(dirname(path), `.${basename(path, extension)}.sluice-${randomUUID().slice(0, 8)}.mjs`);
    await build({
      entryPoints: [path],
      outfile: temporary,
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      packages: "external",
      logLevel: "silent",
      sourcemap: "inline",
    });
    url = pathToFileURL(temporary).href;
  } else {
    url = pathToFileURL(path).href;
  }
  let module: Record<string, unknown>;
  try {
    module = await import(url);
  } finally {
    if (temporary) await rm(temporary, { force: true });
  }
  const found: EntryFunction[] = [];
  for (const [exportName, value] of Object.entries(module)) {
    if (isLocalFunction(value)) found.push({ exportName, fn: value.fn, local: value });
    else if (isSluiceFunction(value)) found.push({ exportName, fn: value });
    else if (isPipeline(value)) for (const stage of value.stages) found.push({ exportName, fn: stage });
  }
  // The same function exported twice (say alone and in a pipeline) runs once.
  const unique = found.filter(
    (item, index) => found.findIndex((other) => other.fn === item.fn || other.fn.name === item.fn.name) === index,
  );
  if (unique.length === 0) {
    throw new ConfigurationError(`${entry} exports no Sluice function: export one made by defineFunction (or wrapped by toLocal)`);
  }
  return unique;
}
