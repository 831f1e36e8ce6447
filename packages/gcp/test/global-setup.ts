import type { TestProject } from "vitest/node";
import { pubsubEmulatorSkipReason, startGcsEmulator, startPubsubEmulator } from "../../../tools/emulators/src/index.js";

/** What the Pub/Sub tests get: the emulator, or why it is not there (a skip when allowed, else a failure). */
export type PubsubEmulatorInfo = { host: string; url: string; projectId: string } | { skip: string } | { error: string };

declare module "vitest" {
  export interface ProvidedContext {
    gcsEmulator: { url: string; projectId: string };
    pubsubEmulator: PubsubEmulatorInfo;
  }
}

/**
 * One Cloud Storage emulator and one Pub/Sub emulator (the Google Cloud CLI's, ~5–10 s to start, so once
 * for the whole gcp project) on 127.0.0.1 with free ports.
 */
export default async function setup(project: TestProject) {
  const skip = pubsubEmulatorSkipReason();
  const [gcs, pubsub] = await Promise.all([
    startGcsEmulator(),
    skip === undefined
      ? startPubsubEmulator().catch((error: unknown) => ({ error: String((error as Error)?.message ?? error) }))
      : undefined,
  ]);
  project.provide("gcsEmulator", { url: gcs.url, projectId: gcs.projectId });
  project.provide(
    "pubsubEmulator",
    skip !== undefined
      ? { skip }
      : pubsub && "stop" in pubsub
        ? { host: pubsub.host, url: pubsub.url, projectId: pubsub.projectId }
        : { error: (pubsub as { error: string }).error },
  );
  return async () => {
    await Promise.all([gcs.stop(), pubsub && "stop" in pubsub ? pubsub.stop() : undefined]);
  };
}
