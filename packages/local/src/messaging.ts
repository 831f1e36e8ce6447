import { randomId } from "./node-crypto.js";
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  ConfigurationError,
  type MessageData,
  type MessageLimits,
  type MessageSendFailure,
  type MessageSender,
  type MessageTarget,
  type OutgoingMessage,
} from "@sluice/core";

/** Messages are written here first and renamed into place, so a reader never sees half a message. */
const TEMP_DIR = ".sluice-tmp";

export interface LocalMessagingOptions {
  /** Directory holding one directory per stream, queue or topic. Default `$SLUICE_LOCAL_MESSAGES` or `.sluice/messages`. */
  root?: string;
  /**
   * The limits to enforce, so that a function meets locally the limits of the cloud it will run on.
   * Default: 1 MiB a message, 500 messages and 5 MiB a batch (Kinesis's).
   */
  limits?: Partial<MessageLimits>;
}

/** One message as a file: what a local stream or queue holds. */
export interface LocalMessageFile {
  id: string;
  time: string;
  /** The body, base64. */
  body: string;
  attributes: Record<string, string>;
  key?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

/**
 * Streams and queues on the filesystem: each stream, queue or topic is a directory with one JSON file a
 * message, named so that a directory listing is in send order. A local function triggered by messages
 * reads them from there (`toLocal(fn).watch()`).
 *
 * @example
 * ```ts
 * const messaging = new LocalMessaging({ root: ".sluice/messages" });
 * await messaging.send({ kind: "queue", name: "alerts" }, [{ body: new TextEncoder().encode("hot"), attributes: {} }]);
 * ```
 */
export class LocalMessaging implements MessageSender {
  readonly provider = "local" as const;
  readonly root: string;
  readonly #limits: MessageLimits;
  #sequence = 0;
  /** Files in a stream or queue directory that are not messages, skipped by {@link LocalMessaging.peek}. */
  readonly unreadable = new Set<string>();

  constructor(options: LocalMessagingOptions = {}) {
    this.root = options.root ?? process.env.SLUICE_LOCAL_MESSAGES ?? ".sluice/messages";
    this.#limits = { maxMessageBytes: 1024 * 1024, maxBatchMessages: 500, maxBatchBytes: 5 * 1024 * 1024, ...options.limits };
  }

  limits(_target: MessageTarget): MessageLimits {
    return this.#limits;
  }

  /** The directory of a stream, queue or topic. Names are checked, so that none escapes the root. */
  directory(name: string): string {
    if (!NAME.test(name)) {
      throw new ConfigurationError(`local messaging: ${JSON.stringify(name)} is not a valid stream or queue name (letters, digits, . _ -)`);
    }
    return join(this.root, name);
  }

  async send(target: MessageTarget, messages: OutgoingMessage[]): Promise<{ failed: MessageSendFailure[] }> {
    const directory = this.directory(target.name);
    await mkdir(join(directory, TEMP_DIR), { recursive: true });
    for (const [index, message] of messages.entries()) {
      const time = new Date().toISOString();
      // Sortable: the time, then a per-process sequence, then a random part against other processes.
      const id = `${Date.now().toString().padStart(15, "0")}-${(this.#sequence++).toString().padStart(9, "0")}-${randomId().slice(0, 8)}`;
      const file: LocalMessageFile = { id, time, body: Buffer.from(message.body).toString("base64"), attributes: message.attributes };
      if (message.key !== undefined) file.key = message.key;
      const temp = join(directory, TEMP_DIR, `${id}.json`);
      try {
        await writeFile(temp, JSON.stringify(file));
        await rename(temp, join(directory, `${id}.json`));
      } catch (error) {
        // The messages written so far are sent: report this one and the rest (so that they keep their
        // order), never throw, which would have sendAll write the earlier ones a second time.
        await rm(temp, { force: true }).catch(() => {});
        const reason = `local messaging: writing to ${directory} failed: ${error instanceof Error ? error.message : String(error)}`;
        return { failed: messages.slice(index).map((_message, offset) => ({ index: index + offset, reason, retryable: true })) };
      }
    }
    return { failed: [] };
  }

  /** The oldest `max` messages waiting in a stream, queue or topic, in send order. */
  async peek(name: string, max: number): Promise<MessageData[]> {
    const directory = this.directory(name);
    let names: string[];
    try {
      names = (await readdir(directory)).filter((entry) => entry.endsWith(".json")).sort();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const messages: MessageData[] = [];
    for (const entry of names) {
      if (messages.length >= max) break;
      let file: LocalMessageFile;
      try {
        file = JSON.parse(await readFile(join(directory, entry), "utf8")) as LocalMessageFile;
        if (typeof file?.id !== "string" || typeof file.body !== "string") throw new Error("no id or body");
      } catch {
        // Not a message this class wrote (a stray or hand-edited file): left in place, skipped, and
        // listed in `unreadable` so that the watcher can say so once, instead of stopping on it.
        this.unreadable.add(join(directory, entry));
        continue;
      }
      const message: MessageData = {
        id: file.id,
        time: file.time,
        body: new Uint8Array(Buffer.from(file.body, "base64")),
        attributes: file.attributes ?? {},
      };
      if (file.key !== undefined) message.group = file.key;
      messages.push(message);
    }
    return messages;
  }

  /** Removes messages once they are done with (processed, or routed to `onFailure`). */
  async acknowledge(name: string, ids: readonly string[]): Promise<void> {
    const directory = this.directory(name);
    await Promise.all(ids.map((id) => rm(join(directory, `${id}.json`), { force: true })));
  }
}
