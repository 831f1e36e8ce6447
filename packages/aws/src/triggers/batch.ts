import type { EventTranslationError, MessageData, MessagesEventData } from "@sluice/core";
import { FieldReader, translationError } from "./fields.js";

/**
 * A native batch translated message by message: the good messages as one neutral event, the messages that
 * could not be translated (each failed alone, SEMANTICS "one bad record fails only that record"), and the
 * housekeeping messages acknowledged without running (an s3:TestEvent, a CloudWatch Logs control message).
 *
 * @example
 * ```ts
 * const { data, rejected, skipped } = fromKinesis(event);
 * console.log(data.messages.length, rejected.map((item) => item.id), skipped);
 * ```
 */
export interface MessageBatch {
  data: MessagesEventData;
  rejected: Array<{ id: string; error: EventTranslationError }>;
  skipped: string[];
  /** Every message's identifier, in the native batch's order. */
  order: string[];
}

/** Each message's identifier, read first: without it a failure could not be reported, so it fails the batch. */
export function batchRecords(source: string, event: unknown, arrayField: string, idOf: (record: FieldReader) => string) {
  const root = FieldReader.of(source, event, "");
  const records = root.array(arrayField);
  if (records.length === 0) throw root.fail(arrayField, "is empty");
  return records.map((value, index) => {
    const record = FieldReader.of(source, value, root.at(`${arrayField}[${index}]`));
    return { record, id: idOf(record) };
  });
}

/** Runs `translate` on each record, keeping a record's EventTranslationError to itself. */
export function translateEach<R>(
  records: Array<{ record: FieldReader; id: string }>,
  translate: (record: FieldReader) => R,
): Array<{ id: string; value: R } | { id: string; error: EventTranslationError }> {
  return records.map(({ record, id }) => {
    try {
      return { id, value: translate(record) };
    } catch (error) {
      if ((error as { code?: unknown })?.code === "EVENT_TRANSLATION") return { id, error: error as EventTranslationError };
      // Anything else escaping a translator is a bug; still report it as this record's translation error.
      return { id, error: translationError(record.source, record.path, "could not be translated", error) };
    }
  });
}

/** Assembles a MessageBatch from per-record results (`undefined` value = housekeeping, skipped). */
export function toBatch(
  base: Omit<MessagesEventData, "messages">,
  results: Array<{ id: string; value: MessageData | undefined } | { id: string; error: EventTranslationError }>,
): MessageBatch {
  const batch: MessageBatch = { data: { ...base, messages: [] }, rejected: [], skipped: [], order: results.map((result) => result.id) };
  for (const result of results) {
    if ("error" in result) batch.rejected.push(result);
    else if (result.value === undefined) batch.skipped.push(result.id);
    else batch.data.messages.push(result.value);
  }
  return batch;
}
