// Checks the published shape of every package, as users' tools will see it: publint for package.json
// and its files, and arethetypeswrong for the types under every module resolution. Run after `pnpm build`.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const bin = (name) => join(root, "node_modules", ".bin", name);
let failed = false;
for (const name of readdirSync(join(root, "packages")).sort()) {
  const dir = join(root, "packages", name);
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  for (const [tool, args] of [
    ["publint", ["--strict"]],
    ["attw", ["--pack", "."]],
  ]) {
    try {
      execFileSync(bin(tool), args, { cwd: dir, stdio: "pipe" });
      console.log(`ok    ${tool.padEnd(8)} ${manifest.name}`);
    } catch (error) {
      failed = true;
      console.log(`FAIL  ${tool.padEnd(8)} ${manifest.name}\n${error.stdout?.toString() ?? ""}${error.stderr?.toString() ?? ""}`);
    }
  }
}
process.exitCode = failed ? 1 : 0;
