import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { LambdaContextLike } from "../src/index.js";

const fixturesRoot = fileURLToPath(new URL("./fixtures/", import.meta.url));

/** Loads `test/fixtures/<source>/<variant>.json`, a fresh copy each time so tests may change it. */
export function fixture(source: string, variant: string): any {
  return JSON.parse(readFileSync(`${fixturesRoot}${source}/${variant}.json`, "utf8"));
}

/** Every JSON fixture under a provider package's `test/fixtures`, as `<source>/<variant>` names and contents. */
export function providerFixtures(provider: "aws" | "gcp" | "azure"): Array<{ name: string; event: unknown }> {
  const root = fileURLToPath(new URL(`../../${provider}/test/fixtures/`, import.meta.url));
  const found: Array<{ name: string; event: unknown }> = [];
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith(".json")) continue;
    const path = `${entry.parentPath}/${entry.name}`;
    found.push({ name: path.slice(root.length).replace(/\.json$/, ""), event: JSON.parse(readFileSync(path, "utf8")) });
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

/** A context shaped like the one Lambda passes: the platform's input, with a 30-second budget. */
export function lambdaContext(requestId = `req-${Math.random().toString(36).slice(2, 10)}`): LambdaContextLike {
  const deadline = Date.now() + 30_000;
  return { awsRequestId: requestId, functionName: "sluice-test", getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
}

/** JSON text of a value, for SQS bodies and SNS messages. */
export const json = (value: unknown) => JSON.stringify(value);
