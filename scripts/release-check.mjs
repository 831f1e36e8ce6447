// Run by `pnpm release` before anything is built or published: a release publishes the versions in the
// packages' manifests, so pending changesets must have been turned into versions (`pnpm changeset version`,
// committed) first. Otherwise the packages would go out at their old versions without their changelog.
import { readdirSync } from "node:fs";

const dir = new URL("../.changeset/", import.meta.url);
const pending = readdirSync(dir).filter((name) => name.endsWith(".md") && name !== "README.md");
if (pending.length > 0) {
  console.error(`${pending.length} pending changeset(s) (${pending.join(", ")}): run \`pnpm changeset version\`, commit, then release.`);
  process.exit(1);
}
