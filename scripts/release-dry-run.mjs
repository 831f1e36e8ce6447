// What `pnpm release` would publish, without publishing and without credentials. Run after `pnpm build`.
//
// A release is `changeset version` (pending changesets become versions and CHANGELOG entries) followed by
// `changeset publish`. This script does the first for real, so that the versions shown are the ones that
// would go out, packs what `publish` would upload with `pnpm publish --dry-run`, and then puts every file
// `changeset version` touched back as it was, whatever happened.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const changesetDir = join(root, ".changeset");
const packages = readdirSync(join(root, "packages"))
  .sort()
  .map((name) => join(root, "packages", name));

// Everything `changeset version` may write: manifests, changelogs, and the changeset files it deletes.
const touched = [
  ...packages.flatMap((dir) => [join(dir, "package.json"), join(dir, "CHANGELOG.md")]),
  ...readdirSync(changesetDir).map((name) => join(changesetDir, name)),
];
const saved = new Map(touched.map((path) => [path, existsSync(path) ? readFileSync(path) : null]));
const versionsBefore = new Map(packages.map((dir) => [dir, JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))]));

const run = (command, args) => execFileSync(command, args, { cwd: root, stdio: "inherit" });
const bin = (name) => join(root, "node_modules", ".bin", name);

let failed = false;
try {
  const pending = readdirSync(changesetDir).filter((name) => name.endsWith(".md") && name !== "README.md");
  console.log(`${pending.length} pending changeset(s): ${pending.join(", ") || "none"}`);
  if (pending.length > 0) run(bin("changeset"), ["version"]);

  console.log("\nRelease plan:");
  for (const dir of packages) {
    const before = versionsBefore.get(dir);
    const after = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    if (before.private) continue;
    const major = (version) => Number(version.split(".")[0]);
    const note = major(after.version) > major(before.version) ? "   <- a MAJOR release: is that intended?" : "";
    console.log(`  ${after.name.padEnd(14)} ${before.version} -> ${after.version}${note}`);
  }

  // `pnpm publish` rewrites workspace: ranges to the new versions, packs, and with --dry-run stops there.
  console.log("");
  run("pnpm", ["-r", "--filter", "./packages/*", "publish", "--dry-run", "--no-git-checks", "--access", "public"]);
} catch (error) {
  failed = true;
  console.error(`release dry run failed: ${error.message}`);
} finally {
  for (const [path, contents] of saved) {
    if (contents === null)
      rmSync(path, { force: true }); // a file `changeset version` created
    else writeFileSync(path, contents);
  }
}
process.exitCode = failed ? 1 : 0;
