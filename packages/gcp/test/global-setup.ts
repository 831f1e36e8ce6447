import type { TestProject } from "vitest/node";
import { startGcsEmulator } from "../../../tools/emulators/src/index.js";

declare module "vitest" {
  export interface ProvidedContext {
    gcsEmulator: { url: string; projectId: string };
  }
}

/** One Cloud Storage emulator for the whole gcp project, on 127.0.0.1 with a free port. */
export default async function setup(project: TestProject) {
  const emulator = await startGcsEmulator();
  project.provide("gcsEmulator", { url: emulator.url, projectId: emulator.projectId });
  return async () => emulator.stop();
}
