import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type { ObjectEventData } from "@sluice/core";

export const fixturesRoot = fileURLToPath(new URL("./fixtures/", import.meta.url));

/**
 * Revives `{"type":"Buffer","data":[…]}` into a real Buffer, as the library hands a binary input over
 * (the fixtures hold Node's own `JSON.stringify(buffer)` form).
 */
function revive(_key: string, value: unknown): unknown {
  if (
    typeof value === "object" &&
    value !== null &&
    (value as { type?: unknown }).type === "Buffer" &&
    Array.isArray((value as { data?: unknown }).data)
  ) {
    return Buffer.from((value as { data: number[] }).data);
  }
  return value;
}

/** Loads `test/fixtures/<path>` (JSON, Buffers revived). */
export function loadFixture(path: string): any {
  return JSON.parse(readFileSync(join(fixturesRoot, path), "utf8"), revive);
}

/** One handler call recorded in a fixture. */
export interface FixtureCall {
  input: unknown;
  triggerMetadata?: Record<string, unknown>;
  expected: any;
}

/** The handler calls a fixture describes: itself (one-call form) or each of its `invocations` (webhook form). */
export function callsOf(fixture: any): FixtureCall[] {
  if (Array.isArray(fixture.invocations)) return fixture.invocations;
  if ("input" in fixture) return [fixture];
  return [];
}

/** Every JSON file under a directory, recursively, as paths relative to it. */
export function jsonFilesUnder(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith(".json")) found.push(relative(root, path));
    }
  };
  walk(root);
  return found.sort();
}

/** The neutral object event the fixture's independently written facts describe. */
export function objectFromFacts(facts: any, contentType = "application/x-ndjson"): ObjectEventData {
  const event: ObjectEventData = {
    kind: facts.creation ? "object.created" : "object.deleted",
    id: facts.id,
    time: facts.time,
    bucket: facts.bucket,
    key: facts.key,
    provider: "azure",
  };
  if (facts.size !== null && facts.size !== undefined) event.size = facts.size;
  if (facts.etag !== null && facts.etag !== undefined) event.etag = facts.etag;
  if (contentType) event.contentType = contentType;
  return event;
}
