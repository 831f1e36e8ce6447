import type { TestProject } from "vitest/node";
import { startS3rver } from "../../../tools/emulators/src/index.js";

declare module "vitest" {
  export interface ProvidedContext {
    s3rverPort: number;
  }
}

/** One s3rver for the store and contract suites, stopped (and its directory removed) after the run. */
export default async function setup(project: TestProject) {
  const { port, stop } = await startS3rver();
  project.provide("s3rverPort", port);
  return stop;
}
