import { randomId } from "./node-crypto.js";
import type { FunctionRuntime, Logger, MessagesEventData, MessagesTrigger, Outcome } from "@sluice/core";
import type { LocalMessaging } from "./messaging.js";

export interface MessageWatchOptions {
  /** Milliseconds between polls when the stream or queue is empty. Default 100. */
  intervalMs?: number;
  /** Most messages a batch hands the function. Default 10 (SQS's default). */
  batchSize?: number;
  /** How many times a failed message is delivered again, as a cloud would. Default 2. */
  retries?: number;
  onOutcome?: (event: MessagesEventData, outcome: Outcome) => void;
  /** Milliseconds an invocation may run. Default: no limit. */
  timeoutMs?: number;
}

/**
 * Feeds a messages-triggered function from a local stream or queue, as a cloud's poller would: a batch
 * at a time, removing the messages that succeeded (or were routed to `onFailure`) and delivering the
 * failed ones again with their attempt count, until `retries` is spent. A message that is still failing
 * then stays in the directory, and is reported; it is never dropped.
 */
export class MessageWatcher {
  readonly #attempts = new Map<string, number>();
  readonly #given = new Set<string>();
  readonly #reported = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #running: Promise<boolean> | undefined;
  #waiters: Array<() => void> = [];

  constructor(
    private readonly runtime: FunctionRuntime,
    private readonly trigger: MessagesTrigger,
    private readonly messaging: LocalMessaging,
    private readonly log: Logger,
    private readonly options: MessageWatchOptions = {},
  ) {}

  start(): this {
    this.#schedule(0);
    return this;
  }

  #schedule(delay: number) {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#running = this.poll()
        .catch((error) => {
          this.log.error("reading local messages failed", { name: this.trigger.name, error });
          return false;
        })
        .finally(() => {
          this.#running = undefined;
        });
      this.#running.then((busy) => {
        if (!busy) {
          for (const wake of this.#waiters) wake();
          this.#waiters = [];
        }
        this.#schedule(busy ? 0 : (this.options.intervalMs ?? 100));
      });
    }, delay);
  }

  /** Runs one batch; resolves whether there was anything to run. */
  async poll(): Promise<boolean> {
    const waiting = await this.messaging.peek(this.trigger.name, Number.MAX_SAFE_INTEGER);
    for (const path of this.messaging.unreadable) {
      if (this.#reported.has(path)) continue;
      this.#reported.add(path);
      this.log.error("a file in the queue is not a message; skipped and left in place", { name: this.trigger.name, path });
    }
    const ready = waiting.filter((message) => !this.#given.has(message.id)).slice(0, Math.max(1, this.options.batchSize ?? 10));
    if (ready.length === 0) return false;
    const retries = Math.max(0, this.options.retries ?? 2);
    const event: MessagesEventData = {
      kind: "messages",
      source: this.trigger.source,
      name: this.trigger.name,
      provider: "local",
      messages: ready.map((message) => ({ ...message, attempt: (this.#attempts.get(message.id) ?? 0) + 1 })),
    };
    const deadline = this.options.timeoutMs === undefined ? undefined : Date.now() + this.options.timeoutMs;
    const outcome = await this.runtime.dispatch(event, { invocationId: randomId(), deadline, nativeEvent: event });
    this.options.onOutcome?.(event, outcome);
    const ids = ready.map((message) => message.id);
    const failed = new Set(outcome.status === "messages" ? outcome.failedMessageIds : outcome.status === "failed" ? ids : []);
    await this.messaging.acknowledge(
      this.trigger.name,
      ids.filter((id) => !failed.has(id)),
    );
    for (const id of ids) if (!failed.has(id)) this.#attempts.delete(id);
    for (const id of failed) {
      const attempts = (this.#attempts.get(id) ?? 0) + 1;
      this.#attempts.set(id, attempts);
      if (attempts > retries) {
        // Given up on, as a cloud would after its retries: left in place for a person to look at.
        this.#given.add(id);
        this.log.error("message still failing after its retries; left in the queue", { name: this.trigger.name, id });
      }
    }
    return true;
  }

  /** Resolves once every message waiting has run (or been given up on). */
  async idle(): Promise<void> {
    await this.#running;
    const waiting = await this.messaging.peek(this.trigger.name, Number.MAX_SAFE_INTEGER);
    if (waiting.every((message) => this.#given.has(message.id))) return;
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}
