import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";

/** Set to 1 where the Google Cloud CLI is absent on purpose: Pub/Sub tests then skip instead of failing. */
export const ALLOW_MISSING_PUBSUB_EMULATOR = "SLUICE_ALLOW_MISSING_PUBSUB_EMULATOR";

const INSTALL_HINT =
  "install the Google Cloud CLI with its Pub/Sub emulator (Debian: apt-get install google-cloud-cli google-cloud-cli-pubsub-emulator, " +
  "or `gcloud components install pubsub-emulator`) and Java 17+; or set SLUICE_ALLOW_MISSING_PUBSUB_EMULATOR=1 to skip these tests";

/** A running Pub/Sub emulator (the real one from the Google Cloud CLI, not a stand-in). */
export interface PubsubEmulator {
  /** `127.0.0.1:<port>`: what `PUBSUB_EMULATOR_HOST` and `new PubSub({ apiEndpoint })` take. */
  host: string;
  port: number;
  /** `http://127.0.0.1:<port>`: the emulator also serves the REST API (`/v1/projects/…`). */
  url: string;
  projectId: string;
  pid: number | undefined;
  output(): string;
  stop(): Promise<void>;
}

/** Where the emulator's launcher is, or `undefined` when this machine has none. */
export function findPubsubEmulator(sdkRoots: readonly string[] = defaultSdkRoots()): string | undefined {
  for (const root of sdkRoots) {
    const launcher = join(root, "platform", "pubsub-emulator", "bin", "cloud-pubsub-emulator");
    if (existsSync(launcher)) return launcher;
  }
  return undefined;
}

/** The Google Cloud CLI's root as `gcloud info` prints it, then the Debian package's location. */
function defaultSdkRoots(): string[] {
  const roots: string[] = [];
  try {
    const root = execFileSync("gcloud", ["info", "--format=value(installation.sdk_root)"], {
      encoding: "utf8",
      timeout: 30_000,
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    if (root) roots.push(root);
  } catch {
    // No gcloud on the PATH: try the Debian package's location.
  }
  roots.push("/usr/lib/google-cloud-sdk");
  return roots;
}

/**
 * Why Pub/Sub tests cannot run here, when they may be skipped for it (`SLUICE_ALLOW_MISSING_PUBSUB_EMULATOR=1`
 * and no emulator); `undefined` when they must run, which {@link startPubsubEmulator} then enforces.
 */
export function pubsubEmulatorSkipReason(sdkRoots?: readonly string[]): string | undefined {
  if (process.env[ALLOW_MISSING_PUBSUB_EMULATOR] !== "1" || findPubsubEmulator(sdkRoots) !== undefined) return undefined;
  return `the Pub/Sub emulator is not installed (${ALLOW_MISSING_PUBSUB_EMULATOR}=1): ${INSTALL_HINT}`;
}

async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Starts the Pub/Sub emulator that ships with the Google Cloud CLI on 127.0.0.1 and a free port, and
 * waits until it answers. It runs in its own process group, which {@link PubsubEmulator.stop} kills
 * whole (the launcher is a shell script that execs java). Throws, saying what to install, when the
 * emulator is not on this machine.
 *
 * @example
 * ```ts
 * const emulator = await startPubsubEmulator();
 * const pubsub = new PubSub({ apiEndpoint: emulator.host, projectId: emulator.projectId });
 * await emulator.stop();
 * ```
 */
export async function startPubsubEmulator(
  options: {
    projectId?: string;
    host?: string;
    timeoutMs?: number /** Where to look instead of gcloud's root. */;
    sdkRoots?: readonly string[];
  } = {},
): Promise<PubsubEmulator> {
  const host = options.host ?? "127.0.0.1";
  const projectId = options.projectId ?? "demo-sluice";
  const timeoutMs = options.timeoutMs ?? 60_000;
  const launcher = findPubsubEmulator(options.sdkRoots);
  if (!launcher) throw new Error(`the Pub/Sub emulator was not found (gcloud info, /usr/lib/google-cloud-sdk): ${INSTALL_HINT}`);
  const port = await freePort(host);
  const child: ChildProcess = spawn(launcher, [`--host=${host}`, `--port=${port}`], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 200) output.splice(0, output.length - 200);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  const killGroup = (signal: NodeJS.Signals) => {
    if (exited || child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  // If the test process dies without calling stop(), do not leave a JVM behind.
  const killOnExit = () => killGroup("SIGKILL");
  process.once("exit", killOnExit);

  const url = `http://${host}:${port}`;
  const started = Date.now();
  for (;;) {
    if (exited) {
      process.removeListener("exit", killOnExit);
      throw new Error(`the Pub/Sub emulator exited before answering. Output:\n${output.join("")}`);
    }
    const ready = await fetch(`${url}/v1/projects/${projectId}/topics`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() - started > timeoutMs) {
      killGroup("SIGKILL");
      process.removeListener("exit", killOnExit);
      throw new Error(`the Pub/Sub emulator did not answer within ${timeoutMs} ms. Output:\n${output.join("")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  let stopping: Promise<void> | undefined;
  return {
    host: `${host}:${port}`,
    port,
    url,
    projectId,
    pid: child.pid,
    output: () => output.join(""),
    stop() {
      stopping ??= (async () => {
        killGroup("SIGTERM");
        const timer = setTimeout(() => killGroup("SIGKILL"), 5_000);
        await exit;
        clearTimeout(timer);
        process.removeListener("exit", killOnExit);
      })();
      return stopping;
    },
  };
}
