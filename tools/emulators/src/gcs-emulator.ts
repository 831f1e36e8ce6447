import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(import.meta.url);

/** A running Cloud Storage emulator. */
export interface GcsEmulator {
  projectId: string;
  host: string;
  port: number;
  /** For `new Storage({ apiEndpoint: url, projectId })`. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts the Cloud Storage emulator's HTTP layer from firebase-tools in this process, without the
 * Java rules runtime that `firebase emulators:start` needs. These are firebase-tools internals, which
 * is why this package pins firebase-tools to one exact version.
 *
 * What the emulator does not do: create buckets (any name works without it), honour preconditions such
 * as ifGenerationMatch. Only one can run per process (it registers itself in a process-wide registry).
 */
export async function startGcsEmulator({ projectId = "demo-sluice", host = "127.0.0.1", port = 0 } = {}): Promise<GcsEmulator> {
  const { StorageEmulator } = require("firebase-tools/lib/emulator/storage");
  const { createApp } = require("firebase-tools/lib/emulator/storage/server");
  const { EmulatorRegistry } = require("firebase-tools/lib/emulator/registry");
  const { Emulators } = require("firebase-tools/lib/emulator/types");
  if (EmulatorRegistry.isRunning(Emulators.STORAGE)) throw new Error("a storage emulator is already registered in this process");
  // The emulator keeps blobs under `${os.tmpdir()}/firebase/storage/blobs`: point os.tmpdir() at a
  // private directory while it is created and reset, so that runs never share blobs.
  const root = mkdtempSync(join(tmpdir(), "sluice-gcs-emu-"));
  const inPrivateTmp = <T>(fn: () => T): T => {
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = root;
    try {
      return fn();
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  };
  const emulator = inPrivateTmp(() => new StorageEmulator({ projectId, host, port, auto_download: false }));
  const app = await createApp(projectId, emulator);
  const server = await new Promise<Server>((resolve, reject) => {
    const listening: Server = app.listen(port, host);
    listening.once("listening", () => resolve(listening));
    listening.once("error", reject);
  });
  const actualPort = (server.address() as AddressInfo).port;
  emulator.args.port = actualPort;
  EmulatorRegistry.set(Emulators.STORAGE, emulator);
  let stopped = false;
  return {
    projectId,
    host,
    port: actualPort,
    url: `http://${host}:${actualPort}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      EmulatorRegistry.clear(Emulators.STORAGE);
      server.closeAllConnections?.();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      rmSync(root, { recursive: true, force: true });
    },
  };
}
