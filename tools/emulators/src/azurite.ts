import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Azurite's fixed, publicly documented development account (not a secret). */
export const AZURITE_ACCOUNT_NAME = "devstoreaccount1";
export const AZURITE_ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface RunningAzurite {
  url: string;
  port: number;
  blobEndpoint: string;
  connectionString: string;
  pid: number | undefined;
  output(): string;
  stop(options?: { graceMs?: number }): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** One of Azurite's binaries (`azurite-blob`, `azurite-queue`) in the nearest node_modules/.bin. */
export function findAzuriteBin(startDir: string, name = "azurite-blob"): string {
  let dir = startDir;
  for (;;) {
    const candidate = join(dir, "node_modules", ".bin", process.platform === "win32" ? `${name}.cmd` : name);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`${name} not found in any node_modules/.bin above ${startDir}`);
    dir = parent;
  }
}

/**
 * Starts a throw-away Azurite blob service on 127.0.0.1 and an OS-chosen port, in memory. The binary is
 * run directly (not through npx) so that the process we stop is the server itself; the port is read from
 * Azurite's "successfully listens on" line.
 */
export async function startAzurite(options: { timeoutMs?: number } = {}): Promise<RunningAzurite> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const args = [
    "--blobHost",
    "127.0.0.1",
    "--blobPort",
    "0",
    "--inMemoryPersistence",
    "--disableTelemetry",
    // Current @azure/storage-blob sends an x-ms-version newer than Azurite 3.35 knows.
    "--skipApiVersionCheck",
    "--silent",
  ];
  const running = await runAzuriteBinary("azurite-blob", args, timeoutMs);
  const blobEndpoint = `${running.url}/${AZURITE_ACCOUNT_NAME}`;
  return {
    ...running,
    blobEndpoint,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};AccountKey=${AZURITE_ACCOUNT_KEY};BlobEndpoint=${blobEndpoint};`,
  };
}

/** A running Azurite binary: where it listens, its output, and how to stop it. */
export interface RunningAzuriteBinary {
  url: string;
  port: number;
  pid: number | undefined;
  output(): string;
  stop(options?: { graceMs?: number }): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs one Azurite binary with `args` and waits for its "successfully listens on" line. The binary is
 * run directly (not through npx) so that the process we stop is the server itself.
 */
export async function runAzuriteBinary(name: string, args: string[], timeoutMs: number): Promise<RunningAzuriteBinary> {
  const bin = findAzuriteBin(dirname(fileURLToPath(import.meta.url)), name);
  const child: ChildProcess = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  const output: string[] = [];
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  // If the test process dies without calling stop(), do not leave Azurite behind.
  const killOnExit = () => {
    if (!exited) child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  const exitPromise = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      exited = { code, signal };
      process.removeListener("exit", killOnExit);
      resolve(exited);
    });
  });

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${name} did not start within ${timeoutMs} ms. Output:\n${output.join("")}`));
    }, timeoutMs);
    child.stdout?.on("data", (chunk: Buffer) => {
      output.push(chunk.toString());
      const match = /successfully listens on (http:\/\/\S+)/.exec(output.join(""));
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    void exitPromise.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited early (code ${code}, signal ${signal}). Output:\n${output.join("")}`));
    });
  });

  return {
    url,
    port: Number(new URL(url).port),
    pid: child.pid,
    output: () => output.join(""),
    async stop({ graceMs = 5_000 } = {}) {
      if (exited) return exited;
      // Azurite closes its server and exits on SIGTERM.
      child.kill("SIGTERM");
      const timer = setTimeout(() => {
        if (!exited) child.kill("SIGKILL");
      }, graceMs);
      const result = await exitPromise;
      clearTimeout(timer);
      return result;
    },
  };
}
