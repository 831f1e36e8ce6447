// Line coverage per package, from the json-summary that `pnpm test --coverage` writes to
// coverage/coverage-summary.json. Prints a table and fails when core or a cloud adapter is under the floor.
import { existsSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const summaryPath = join(root, "coverage", "coverage-summary.json");
const FLOOR = 90;
/** Held to the floor: the core and every cloud adapter. local and cli are reported, not held. */
const HELD = new Set(["core", "aws", "gcp", "azure"]);
const ORDER = ["core", "local", "cli", "aws", "gcp", "azure"];

if (!existsSync(summaryPath)) {
  console.error(`no ${relative(root, summaryPath)}: run \`pnpm test --coverage\` first`);
  process.exit(1);
}
const summary = JSON.parse(readFileSync(summaryPath, "utf8"));

const totals = new Map(ORDER.map((name) => [name, { covered: 0, total: 0, files: 0 }]));
for (const [file, metrics] of Object.entries(summary)) {
  if (file === "total") continue;
  const parts = relative(root, file).split(sep);
  if (parts[0] !== "packages" || parts[2] !== "src") continue;
  const entry = totals.get(parts[1]);
  if (!entry) continue;
  entry.covered += metrics.lines.covered;
  entry.total += metrics.lines.total;
  entry.files += 1;
}

let failed = false;
console.log("package  files  lines covered       %   floor");
for (const [name, { covered, total, files }] of totals) {
  const pct = total === 0 ? 0 : (100 * covered) / total;
  const held = HELD.has(name);
  const ok = !held || pct >= FLOOR;
  if (!ok) failed = true;
  const floor = held ? `${FLOOR}%${ok ? "" : "  BELOW"}` : "-";
  console.log(
    `${name.padEnd(7)}  ${String(files).padStart(5)}  ${`${covered}/${total}`.padStart(13)}  ${pct.toFixed(2).padStart(6)}   ${floor}`,
  );
}
if (failed) console.error(`\nline coverage of core and of each adapter must be at least ${FLOOR}%`);
process.exitCode = failed ? 1 : 0;
