import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readFileSync } from "node:fs";

/** A fresh temporary directory, removed by the returned function. */
export async function tempRoot(label: string): Promise<{ root: string; remove: () => Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), `sluice-${label}-`));
  return { root, remove: () => rm(root, { recursive: true, force: true }) };
}

/** Loads a JSON fixture from `test/fixtures/<source>/<variant>.json`. */
export function fixture(source: string, variant: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`./fixtures/${source}/${variant}.json`, import.meta.url), "utf8"));
}
