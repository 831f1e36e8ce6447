import { execFile } from "node:child_process";
import { promisify } from "node:util";

/**
 * The emulator demo builds each cloud's artifact with `sluice build`, which bundles the packages as users
 * get them (their `dist`), so build them first. The other tests here run on sources and need no build.
 */
export default async function setup() {
  const workspace = new URL("../../..", import.meta.url).pathname;
  await promisify(execFile)("pnpm", ["--reporter=silent", "-r", "--filter", "./packages/*", "build"], { cwd: workspace });
}
