import { type ObjectCreatedEvent, type ObjectDeletedEvent, defineFunction, destinations, readAllBytes, triggers } from "@sluice/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StorageNotificationEventType, storageNotification } from "../../../tools/emulators/src/index.js";
import { GcsObjectStore, toCloudFunction } from "../src/index.js";
import { capturingLogger } from "./framework.js";
import { emulatorStorage } from "./helpers.js";
import {
  createSubscription,
  createTopic,
  pubsubEmulator,
  pubsubRest,
  pubsubSkipReason,
  serve,
  uniqueName,
  waitFor,
} from "./pubsub-helpers.js";

const skip = pubsubSkipReason();

describe.skipIf(skip !== undefined)(
  "Cloud Storage notifications through Pub/Sub: objects written to the Cloud Storage emulator, their notifications published to the Pub/Sub emulator and pushed to the functions",
  () => {
    const storage = emulatorStorage();
    const store = new GcsObjectStore({ storage });
    const topic = uniqueName("gcs-notify");
    const input = uniqueName("notify-in");
    const output = uniqueName("notify-out");
    const servers: Array<{ close(): Promise<void> }> = [];
    const created: Record<string, string[]> = { http: [], cloudEvent: [] };
    const deleted: Array<{ key: string; version?: string }> = [];
    const logs = { http: capturingLogger(), cloudEvent: capturingLogger(), deleted: capturingLogger() };
    const published: Array<{ id: string; eventType: StorageNotificationEventType; key: string }> = [];

    beforeAll(async () => {
      await createTopic(topic);
      const copy = (route: "http" | "cloudEvent") =>
        defineFunction({
          name: `copy-${route}-${topic}`,
          trigger: triggers.objectCreated({ bucket: input }),
          destination: destinations.objectStore<{ event: ObjectCreatedEvent; result: string }>({
            bucket: output,
            key: ({ event }) => `${route}/${event.key}`,
          }),
          async handler(event: ObjectCreatedEvent) {
            created[route]?.push(event.key);
            return (await event.text()).toUpperCase();
          },
        });
      const onDeleted = defineFunction({
        name: `deleted-${topic}`,
        trigger: triggers.objectDeleted({ bucket: input }),
        handler(event: ObjectDeletedEvent) {
          const entry: { key: string; version?: string } = { key: event.key };
          if (event.version !== undefined) entry.version = event.version;
          deleted.push(entry);
        },
      });
      toCloudFunction(copy("http"), { storage, log: logs.http.log, signature: "http" });
      toCloudFunction(copy("cloudEvent"), { storage, log: logs.cloudEvent.log });
      toCloudFunction(onDeleted, { storage, log: logs.deleted.log, signature: "http" });
      const viaHttp = await serve(`copy-http-${topic}`);
      const viaCloudEvent = await serve(`copy-cloudEvent-${topic}`);
      const forDeletions = await serve(`deleted-${topic}`);
      servers.push(viaHttp, viaCloudEvent, forDeletions);
      const { projectId } = pubsubEmulator();
      await createSubscription(topic, `${topic}-copy-http`, { pushConfig: { pushEndpoint: viaHttp.url } });
      await createSubscription(topic, `${topic}-copy-ce`, {
        pushConfig: { pushEndpoint: `${viaCloudEvent.url}projects/${projectId}/topics/${topic}` },
      });
      await createSubscription(topic, `${topic}-deleted`, { pushConfig: { pushEndpoint: forDeletions.url } });
    }, 60_000);

    afterAll(async () => {
      for (const server of servers) await server.close();
    });

    /** Publishes what Cloud Storage publishes for this change of this object, from the emulator's metadata. */
    async function notify(eventType: StorageNotificationEventType, metadata: Record<string, unknown>, options = {}) {
      const message = storageNotification(eventType, metadata, options);
      const { messageIds } = (await pubsubRest(`topics/${topic}:publish`, "POST", { messages: [message] })) as { messageIds: string[] };
      published.push({ id: messageIds[0] as string, eventType, key: String(metadata.name) });
    }

    async function write(key: string, text: string) {
      const file = storage.bucket(input).file(key);
      await file.save(text, { resumable: false, contentType: "text/plain" });
      const [metadata] = await file.getMetadata();
      await notify("OBJECT_FINALIZE", metadata as Record<string, unknown>);
      return { file, metadata: metadata as Record<string, unknown> };
    }

    it("runs object.created for finalizations only, object.deleted for deletions and archivals, and nothing for metadata updates", async () => {
      await write("plain.txt", "hello");
      await write("dir/ünïcode name.txt", "unicode");
      const updated = await write("updated.txt", "before the metadata update");
      // The emulator answers a metadata PATCH with 501: the resource is the object's as it would read after one.
      await notify("OBJECT_METADATA_UPDATE", {
        ...updated.metadata,
        metadata: { reviewed: "yes" },
        metageneration: String(Number(updated.metadata.metageneration ?? 1) + 1),
        updated: new Date().toISOString(),
      });
      const gone = await write("gone.txt", "deleted soon");
      // Deleted once both copies ran, so that the copies find it (a copy that finds it gone skips it, which is not this test).
      await waitFor(() => created.http?.includes("gone.txt") === true && created.cloudEvent?.includes("gone.txt") === true);
      await gone.file.delete();
      await notify("OBJECT_DELETE", gone.metadata);
      const archived = await write("archived.txt", "an older generation");
      await notify("OBJECT_ARCHIVE", archived.metadata, { overwrittenByGeneration: "99" });

      const ignoredBy = (log: ReturnType<typeof capturingLogger>) => log.lines.filter((line) => line.message === "event ignored");
      await waitFor(
        () =>
          (created.http?.length ?? 0) + ignoredBy(logs.http).length >= published.length &&
          (created.cloudEvent?.length ?? 0) + ignoredBy(logs.cloudEvent).length >= published.length &&
          deleted.length + ignoredBy(logs.deleted).length >= published.length,
      );

      const finalized = published.filter((message) => message.eventType === "OBJECT_FINALIZE").map((message) => message.key);
      for (const route of ["http", "cloudEvent"] as const) {
        // Each finalized object once: never the deletion, the archival or the metadata update.
        expect([...(created[route] ?? [])].sort()).toEqual([...finalized].sort());
        const ignoredIds = ignoredBy(logs[route]).map((line) => String(line.fields?.invocationId));
        expect(ignoredIds.sort()).toEqual(
          published
            .filter((message) => message.eventType !== "OBJECT_FINALIZE")
            .map((message) => message.id)
            .sort(),
        );
        expect(new TextDecoder().decode(await readAllBytes(await store.get(output, `${route}/plain.txt`)))).toBe("HELLO");
        expect(new TextDecoder().decode(await readAllBytes(await store.get(output, `${route}/dir/ünïcode name.txt`)))).toBe("UNICODE");
      }
      expect(deleted.map((entry) => entry.key).sort()).toEqual(["archived.txt", "gone.txt"]);
      expect(deleted.find((entry) => entry.key === "gone.txt")?.version).toBe(String(gone.metadata.generation));
      expect(ignoredBy(logs.deleted)).toHaveLength(published.length - 2);
    });
  },
);
