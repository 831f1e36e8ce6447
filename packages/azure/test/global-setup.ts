import type { TestProject } from "vitest/node";
import { startAzurite } from "../../../tools/emulators/src/index.js";

declare module "vitest" {
  export interface ProvidedContext {
    azuriteConnectionString: string;
    azuriteBlobEndpoint: string;
  }
}

/** One Azurite for the whole azure project, started before the tests and stopped after them. */
export default async function setup(project: TestProject) {
  const azurite = await startAzurite();
  project.provide("azuriteConnectionString", azurite.connectionString);
  project.provide("azuriteBlobEndpoint", azurite.blobEndpoint);
  return async () => {
    await azurite.stop();
  };
}
