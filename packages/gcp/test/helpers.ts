import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Storage } from "@google-cloud/storage";
import { inject } from "vitest";
import type { GcpHttpRequest } from "../src/triggers/http.js";

export const fixturesDir = fileURLToPath(new URL("./fixtures/", import.meta.url));

/** Loads a JSON fixture: `fixture("storage-cloudevent", "finalized")` reads `test/fixtures/storage-cloudevent/finalized.json`. */
export function fixture<T = Record<string, unknown>>(source: string, variant: string): T {
  return JSON.parse(readFileSync(join(fixturesDir, source, `${variant}.json`), "utf8")) as T;
}

/** Every `*.json` file under a directory, recursively, with its path relative to that directory. */
export function jsonFilesUnder(directory: string): Array<{ name: string; json: unknown }> {
  const files: Array<{ name: string; json: unknown }> = [];
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path, `${prefix}${entry}/`);
      else if (entry.endsWith(".json")) files.push({ name: `${prefix}${entry}`, json: JSON.parse(readFileSync(path, "utf8")) });
    }
  };
  walk(directory, "");
  return files;
}

/** A Storage client on the emulator the global setup started (apiEndpoint, never STORAGE_EMULATOR_HOST). */
export function emulatorStorage(): Storage {
  const { url, projectId } = inject("gcsEmulator");
  return new Storage({ apiEndpoint: url, projectId });
}

/** A clock and id source for pure translators. */
export const fixedEnv = (triggerName?: string) => ({
  now: () => "2026-11-23T16:00:00.000Z",
  newId: () => "generated-id",
  ...(triggerName ? { triggerName } : {}),
});

/** An HTTP fixture (`{method, path, query, headers, body}`) as the adapter reads a request. */
export function requestFixture(source: string, variant: string): GcpHttpRequest {
  const raw = fixture<{
    method: string;
    path: string;
    query?: Record<string, string>;
    headers: Record<string, string>;
    body: string | null;
  }>(source, variant);
  const request: GcpHttpRequest = {
    method: raw.method,
    path: raw.path,
    search: new URLSearchParams(raw.query ?? {}).toString(),
    headers: raw.headers,
  };
  if (raw.body !== null) request.body = new TextEncoder().encode(raw.body);
  return request;
}
