import { EventTranslationError, normalizeIsoTime } from "@sluice/core";

/** A JSON object as it arrives: nothing about its fields is trusted yet. */
export type Fields = Record<string, unknown>;

/**
 * The native source a translator reads, named as in error messages and the README's table.
 *
 * @example
 * ```ts
 * const source: AwsSource = detectSource(event); // "sqs"
 * ```
 */
export type AwsSource =
  | "s3"
  | "s3-test-event"
  | "s3-eventbridge"
  | "sqs"
  | "sns"
  | "kinesis"
  | "firehose"
  | "apigw-v1"
  | "apigw-v2"
  | "function-url"
  | "alb"
  | "schedule"
  | "scheduler"
  | "invoke";

export function isRecord(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Builds the error every translator raises: provider, source, field path and reason. */
export function translationError(source: string, field: string, reason: string, cause?: unknown): EventTranslationError {
  return new EventTranslationError({ provider: "aws", source, field, reason, cause });
}

/** A short, safe description of a value for error messages (never the whole payload). */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return value.length > 40 ? `a ${value.length}-character string` : JSON.stringify(value);
  return typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

/**
 * Reads typed fields of one native object, naming the full path in every error. The path of a child is
 * only spelled out when an error needs it: building `Records[3].s3.object` for every record of every
 * event, to throw it away, was a measurable part of translating an S3 record.
 */
export class FieldReader {
  readonly source: string;
  readonly record: Fields;
  #path: string | undefined;
  readonly #parent: FieldReader | undefined;
  readonly #field: string;
  readonly #index: number;

  constructor(source: string, record: Fields, path: string, parent?: FieldReader, index = -1) {
    this.source = source;
    this.record = record;
    this.#parent = parent;
    this.#field = path;
    this.#index = index;
    if (!parent) this.#path = path;
  }

  static of(source: string, value: unknown, path: string): FieldReader {
    if (!isRecord(value)) throw translationError(source, path, `must be an object, got ${describe(value)}`);
    return new FieldReader(source, value, path);
  }

  /** Where this object sits in the native payload (`""` for the payload itself). */
  get path(): string {
    this.#path ??= (this.#parent as FieldReader).at(this.#index < 0 ? this.#field : `${this.#field}[${this.#index}]`);
    return this.#path;
  }

  at(field: string): string {
    return this.path === "" ? field : `${this.path}.${field}`;
  }

  /** The object at `array[index]` of this one, e.g. `Records[3]`. */
  item(array: string, index: number, value: unknown): FieldReader {
    if (!isRecord(value)) throw translationError(this.source, this.at(`${array}[${index}]`), `must be an object, got ${describe(value)}`);
    return new FieldReader(this.source, value, array, this, index);
  }

  fail(field: string, reason: string, cause?: unknown): EventTranslationError {
    return translationError(this.source, this.at(field), reason, cause);
  }

  child(field: string): FieldReader {
    const value = this.record[field];
    if (!isRecord(value)) throw this.fail(field, `must be an object, got ${describe(value)}`);
    return new FieldReader(this.source, value, field, this);
  }

  optionalChild(field: string): FieldReader | undefined {
    const value = this.record[field];
    return value === undefined || value === null ? undefined : this.child(field);
  }

  string(field: string): string {
    const value = this.record[field];
    if (typeof value !== "string" || value === "") throw this.fail(field, `must be a non-empty string, got ${describe(value)}`);
    return value;
  }

  /** A string that may be empty (an SQS body, an SNS message). */
  text(field: string): string {
    const value = this.record[field];
    if (typeof value !== "string") throw this.fail(field, `must be a string, got ${describe(value)}`);
    return value;
  }

  /** Absent, `null` and `""` all mean "not given" (SEMANTICS: placeholders in optional fields are not errors). */
  optionalString(field: string): string | undefined {
    const value = this.record[field];
    if (value === undefined || value === null || value === "") return undefined;
    if (typeof value !== "string") throw this.fail(field, `must be a string, got ${describe(value)}`);
    return value;
  }

  array(field: string): unknown[] {
    const value = this.record[field];
    if (!Array.isArray(value)) throw this.fail(field, `must be an array, got ${describe(value)}`);
    return value;
  }

  /** An ISO time, normalised to UTC milliseconds. */
  isoTime(field: string): string {
    const value = this.record[field];
    const time = normalizeIsoTime(value);
    if (!time) throw this.fail(field, `must be an ISO 8601 time, got ${describe(value)}`);
    return time;
  }

  /** A map of strings; `null` and absent are the empty map (API Gateway's console test sends `null`). */
  stringMap(field: string): Record<string, string> {
    const value = this.record[field];
    if (value === undefined || value === null) return {};
    if (!isRecord(value)) throw this.fail(field, `must be an object of strings, got ${describe(value)}`);
    const result: Record<string, string> = {};
    // for…in rather than Object.entries: no array of pairs per map (path parameters, headers, query, per request).
    for (const name in value) {
      if (!Object.hasOwn(value, name)) continue;
      const item = value[name];
      if (item === null || item === undefined) continue;
      if (typeof item !== "string") throw this.fail(`${field}.${name}`, `must be a string, got ${describe(item)}`);
      result[name] = item;
    }
    return result;
  }

  /** A map of string arrays (multi-value headers and query), `null` and absent being empty. */
  stringListMap(field: string): Record<string, string[]> {
    const value = this.record[field];
    if (value === undefined || value === null) return {};
    if (!isRecord(value)) throw this.fail(field, `must be an object of string arrays, got ${describe(value)}`);
    const result: Record<string, string[]> = {};
    for (const [name, items] of Object.entries(value)) {
      if (items === null || items === undefined) continue;
      if (!Array.isArray(items) || !items.every((item) => typeof item === "string")) {
        throw this.fail(`${field}.${name}`, `must be an array of strings, got ${describe(items)}`);
      }
      result[name] = items as string[];
    }
    return result;
  }
}

const STRICT_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Whether a string is canonical base64. `Buffer.from(x, "base64")` never throws: it skips what it does
 * not recognise, so a plain-text body flagged `isBase64Encoded` would silently become junk bytes.
 */
export function isStrictBase64(value: string): boolean {
  return value.length % 4 === 0 && STRICT_BASE64.test(value);
}

/** Decodes transport base64 strictly, or raises an EventTranslationError at `field`. */
export function decodeBase64(source: string, field: string, value: unknown): Uint8Array {
  if (typeof value !== "string") throw translationError(source, field, `must be a base64 string, got ${describe(value)}`);
  if (!isStrictBase64(value)) throw translationError(source, field, "is not valid base64");
  return new Uint8Array(Buffer.from(value, "base64"));
}

/** The last `:`- or `/`-separated part of an ARN: a queue, topic, stream or rule name. */
export function nameFromArn(arn: string): string {
  const parts = arn.split(/[:/]/);
  return parts[parts.length - 1] || arn;
}
