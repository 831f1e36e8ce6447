import { createHash } from "node:crypto";
import type { MessageLimits, MessageSendFailure, OutgoingMessage } from "@sluice/core";
import { SQS_BODY_ENCODING_ATTRIBUTE, sqsBody } from "./encoding.js";
import { AwsMessagingError, loadSdk } from "./errors.js";
import type { AwsClientLike } from "./types.js";

type SqsSdk = typeof import("@aws-sdk/client-sqs");

/**
 * SQS limits. A message counts its body and each attribute's name, data type and value (SQS Developer
 * Guide, "Amazon SQS message attributes"); a batch holds 10 entries, and the whole batch counts against the
 * same byte limit as one message. The limit rose from 256 KiB to 1 MiB in 2025 (and the default
 * `MaximumMessageSize` of new queues with it), but a queue created before keeps its own setting, and a
 * message over it is refused for good: 256 KiB works with every queue, so it is the default, and
 * `limits.sqs.maxMessageBytes: 1_048_576` opts in to the new limit.
 */
export const SQS_LIMITS: MessageLimits = { maxMessageBytes: 262_144, maxBatchMessages: 10, maxBatchBytes: 262_144 };
/** The most SQS takes at all, whatever the queue's setting. */
export const SQS_HARD_LIMIT = 1_048_576;
/** SQS refuses a message with more message attributes than this. */
const MAX_ATTRIBUTES = 10;
const DATA_TYPE = "String";

/** Bytes SQS counts for a message as Sluice sends it (see {@link sqsEntry}). */
export function sqsMessageSize(message: OutgoingMessage): number {
  const body = sqsBody(message.body);
  let size = Buffer.byteLength(body.text);
  for (const name in message.attributes) {
    size += Buffer.byteLength(name) + DATA_TYPE.length + Buffer.byteLength(message.attributes[name] as string);
  }
  if (body.base64) size += SQS_BODY_ENCODING_ATTRIBUTE.length + DATA_TYPE.length + "base64".length;
  return size;
}

/** Whether a queue (by name, URL or ARN) is FIFO: its name ends in `.fifo`, and only then. */
export function isFifoQueue(name: string): boolean {
  return name.endsWith(".fifo");
}

interface SqsEntry {
  Id: string;
  MessageBody: string;
  MessageAttributes?: Record<string, { DataType: string; StringValue: string }>;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
}

/**
 * One message as an SQS batch entry: the body as text or base64 (with the encoding attribute), every
 * attribute as a `String` message attribute, and on a FIFO queue the key as `MessageGroupId` (one group,
 * `"sluice"`, when there is none: FIFO requires a group) and the id, or else the SHA-256 of the body as
 * content-based deduplication would compute it, as `MessageDeduplicationId`. On a standard queue the key
 * is not sent: SQS orders nothing by it.
 */
export function sqsEntry(id: string, message: OutgoingMessage, fifo: boolean): SqsEntry | AwsMessagingError {
  const body = sqsBody(message.body);
  const attributes: Record<string, { DataType: string; StringValue: string }> = {};
  for (const name in message.attributes) attributes[name] = { DataType: DATA_TYPE, StringValue: message.attributes[name] as string };
  if (body.base64) attributes[SQS_BODY_ENCODING_ATTRIBUTE] = { DataType: DATA_TYPE, StringValue: "base64" };
  for (const name in message.attributes) {
    const problem = attributeProblem(name, message.attributes[name] as string);
    if (problem) return new AwsMessagingError({ service: "sqs", field: `MessageAttributes.${name}`, reason: problem });
  }
  const count = Object.keys(attributes).length;
  if (count > MAX_ATTRIBUTES) {
    return new AwsMessagingError({
      service: "sqs",
      field: "MessageAttributes",
      reason: `a message has ${count} attributes${body.base64 ? ` (${SQS_BODY_ENCODING_ATTRIBUTE} included)` : ""}, over SQS's limit of ${MAX_ATTRIBUTES}`,
    });
  }
  const entry: SqsEntry = { Id: id, MessageBody: body.text };
  if (count > 0) entry.MessageAttributes = attributes;
  if (fifo) {
    entry.MessageGroupId = message.key ?? "sluice";
    entry.MessageDeduplicationId = message.id ?? createHash("sha256").update(message.body).digest("hex");
  }
  return entry;
}

/**
 * Why SQS would refuse a message attribute, or `undefined`: names are 1 to 256 of `A-Z a-z 0-9 _ - .`,
 * without `..`, a leading or trailing `.`, or an `AWS.` or `Amazon.` prefix; `String` values are not empty
 * (SQS Developer Guide, "Amazon SQS message attributes"). Checked before sending, so that the one message
 * fails with a reason instead of the whole batch call.
 */
function attributeProblem(name: string, value: string): string | undefined {
  if (!/^[A-Za-z0-9_.-]{1,256}$/.test(name) || name.includes("..") || name.startsWith(".") || name.endsWith(".")) {
    return "a name is 1 to 256 letters, digits, _, - and . (no .. and no . at either end)";
  }
  if (/^(aws|amazon)\./i.test(name)) return "names starting with AWS. or Amazon. are reserved";
  if (value === "") return "SQS refuses an empty attribute value";
  return undefined;
}

/** Sends to SQS queues: each queue name resolved to its URL once (GetQueueUrl), then SendMessageBatch. */
export class SqsSender {
  readonly #client: () => Promise<{ client: AwsClientLike; sdk: SqsSdk }>;
  readonly #urls = new Map<string, Promise<string>>();

  constructor(client: () => Promise<{ client: AwsClientLike; sdk: SqsSdk }>) {
    this.#client = client;
  }

  /**
   * A queue's URL: a URL is used as given; an ARN (`arn:aws:sqs:region:account:name`) and a name are
   * looked up with GetQueueUrl (the ARN's account as `QueueOwnerAWSAccountId`), once per name.
   */
  queueUrl(name: string): Promise<string> {
    if (/^https?:\/\//.test(name)) return Promise.resolve(name);
    let url = this.#urls.get(name);
    if (!url) {
      url = this.#lookUp(name);
      // A failed look-up is not cached: the queue may be created, or the network come back.
      url.catch(() => this.#urls.delete(name));
      this.#urls.set(name, url);
    }
    return url;
  }

  async #lookUp(name: string): Promise<string> {
    const { client, sdk } = await this.#client();
    const arn = /^arn:aws[\w-]*:sqs:[^:]*:(\d+):(.+)$/.exec(name);
    const input = arn ? { QueueName: arn[2] as string, QueueOwnerAWSAccountId: arn[1] as string } : { QueueName: name };
    try {
      const { QueueUrl } = (await client.send(new sdk.GetQueueUrlCommand(input))) as { QueueUrl?: string };
      if (!QueueUrl) throw new Error("GetQueueUrl answered without a QueueUrl");
      return QueueUrl;
    } catch (cause) {
      const code = (cause as { name?: string })?.name;
      if (code === "QueueDoesNotExist" || code === "AWS.SimpleQueueService.NonExistentQueue") {
        throw new AwsMessagingError({
          service: "sqs",
          field: "QueueUrl",
          reason: `queue ${JSON.stringify(name)} does not exist (GetQueueUrl${arn ? `, account ${arn[1]}` : ""}); give the queue's name, URL or ARN`,
          cause,
        });
      }
      throw cause;
    }
  }

  async send(name: string, messages: OutgoingMessage[]): Promise<{ failed: MessageSendFailure[] }> {
    const { client, sdk } = await this.#client();
    const url = await this.queueUrl(name);
    const fifo = isFifoQueue(url);
    const failed: MessageSendFailure[] = [];
    const entries: SqsEntry[] = [];
    messages.forEach((message, index) => {
      const entry = sqsEntry(String(index), message, fifo);
      if (entry instanceof AwsMessagingError) failed.push({ index, reason: entry.message, retryable: false });
      else entries.push(entry);
    });
    if (entries.length === 0) return { failed };
    const output = (await client.send(new sdk.SendMessageBatchCommand({ QueueUrl: url, Entries: entries }))) as {
      Successful?: Array<{ Id?: string }>;
      Failed?: Array<{ Id?: string; SenderFault?: boolean; Code?: string; Message?: string }>;
    };
    const answered = new Set<string>();
    for (const entry of output.Successful ?? []) if (entry.Id !== undefined) answered.add(entry.Id);
    for (const entry of output.Failed ?? []) {
      if (entry.Id === undefined || answered.has(entry.Id)) continue;
      answered.add(entry.Id);
      // SenderFault: the message itself is wrong (too large, invalid characters); sending it again cannot help.
      failed.push({
        index: Number(entry.Id),
        reason: `SQS ${entry.Code ?? "refused"}${entry.Message ? `: ${entry.Message}` : ""}`,
        retryable: entry.SenderFault !== true,
      });
    }
    // An entry the answer does not mention was not confirmed: it is sent again rather than assumed delivered.
    for (const entry of entries) {
      if (!answered.has(entry.Id)) failed.push({ index: Number(entry.Id), reason: "SQS did not answer for this entry", retryable: true });
    }
    return { failed: failed.sort((a, b) => a.index - b.index) };
  }
}

/** Loads the SQS SDK (see {@link loadSdk}). */
export const loadSqsSdk = () => loadSdk<SqsSdk>("sqs");
