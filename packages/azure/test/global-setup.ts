import type { TestProject } from "vitest/node";
import { startAzurite, startAzuriteQueue } from "../../../tools/emulators/src/index.js";

declare module "vitest" {
  export interface ProvidedContext {
    azuriteConnectionString: string;
    azuriteBlobEndpoint: string;
    azuriteQueueConnectionString: string;
  }
}

/** One Azurite (blob and queue services) for the whole azure project, started before the tests and stopped after them. */
export default async function setup(project: TestProject) {
  const [azurite, queues] = await Promise.all([startAzurite(), startAzuriteQueue()]);
  project.provide("azuriteConnectionString", azurite.connectionString);
  project.provide("azuriteBlobEndpoint", azurite.blobEndpoint);
  project.provide("azuriteQueueConnectionString", queues.connectionString);
  return async () => {
    await Promise.all([azurite.stop(), queues.stop()]);
  };
}
