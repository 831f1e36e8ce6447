/**
 * A small, deterministic mutator of native events, for fuzzing translators: it takes real-shaped seeds
 * and removes fields, changes their types, truncates and inflates strings, breaks encodings and nests
 * junk. The same seed yields the same events, so a failure found once is found again.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function randomSource(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const JUNK: Json[] = [
  null,
  "",
  0,
  -1,
  1e308,
  2 ** 53 + 2, // an unsafe integer
  true,
  [],
  {},
  [null],
  { "": null },
  "\uFEFF{}",
  "%E0%A4%A",
  "not base64 !!!",
  "__proto__",
  "\u0000",
  "2026-13-45T99:99:99Z",
  "NaN",
  "𝒮𝓁𝓊𝒾𝒸𝑒",
  "a".repeat(70_000),
];

/** Every path to a value inside `value`, parent before children. */
function paths(value: Json, prefix: Array<string | number> = [], found: Array<Array<string | number>> = []) {
  found.push(prefix);
  if (Array.isArray(value)) for (const [index, item] of value.entries()) paths(item, [...prefix, index], found);
  else if (value && typeof value === "object") for (const [key, item] of Object.entries(value)) paths(item, [...prefix, key], found);
  return found;
}

function clone(value: Json): Json {
  return JSON.parse(JSON.stringify(value)) as Json;
}

function getAt(root: Json, path: Array<string | number>): Json {
  let current: Json = root;
  for (const step of path) current = (current as Record<string | number, Json>)[step] as Json;
  return current;
}

function setAt(root: Json, path: Array<string | number>, value: Json | undefined): Json {
  if (path.length === 0) return value === undefined ? null : value;
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, Json> | Json[];
  const last = path[path.length - 1] as string | number;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete (parent as Record<string, Json>)[last];
  } else {
    (parent as Record<string | number, Json>)[last] = value;
  }
  return root;
}

function mutateValue(value: Json, random: () => number, pick: <T>(items: readonly T[]) => T): Json | undefined {
  switch (Math.floor(random() * 9)) {
    case 0:
      return undefined; // removed
    case 1:
      return pick(JUNK); // retyped
    case 2:
      return typeof value === "string" ? value.slice(0, Math.floor(random() * value.length)) : String(value); // truncated or stringified
    case 3:
      return typeof value === "string" ? `\uFEFF${value}` : [value]; // BOM, or wrapped in an array
    case 4:
      return typeof value === "string" ? value.replace(/[A-Za-z0-9]/, "%") : { value }; // broken escape, or nested
    case 5:
      return typeof value === "number" ? -value : typeof value === "string" ? Number(value.length) : null;
    case 6:
      return typeof value === "string" ? value.repeat(1 + Math.floor(random() * 200)) : value;
    case 7:
      return typeof value === "string" && value.length > 0 ? Buffer.from(value).toString("base64").slice(1) : false;
    default:
      return Array.isArray(value)
        ? [...value, ...value]
        : value && typeof value === "object"
          ? { ...value, [pick(["Records", "data", "type", "kind", "body", "message"])]: pick(JUNK) }
          : value;
  }
}

/**
 * Yields `count` mutated copies of the seeds (each with one to four mutations), plus the seeds' raw
 * text cut short, as strings, and non-object payloads.
 *
 * @example
 * ```ts
 * for (const event of mutatedEvents(fixtures, 10_000, 1)) await expectOnlyTypedErrors(() => handler(event));
 * ```
 */
export function* mutatedEvents(seeds: readonly unknown[], count: number, seed = 1): Generator<unknown> {
  const random = randomSource(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const roots = seeds.map((item) => clone(item as Json));
  for (let index = 0; index < count; index++) {
    if (index % 50 === 49) {
      // Whole payloads of the wrong kind, now and then.
      yield pick([null, 42, "", "{", [], JSON.stringify(pick(roots)), JSON.stringify(pick(roots)).slice(0, 20)]);
      continue;
    }
    let event = clone(pick(roots));
    const mutations = 1 + Math.floor(random() * 4);
    for (let step = 0; step < mutations; step++) {
      const candidates = paths(event);
      const path = pick(candidates);
      const mutated = mutateValue(getAt(event, path), random, pick);
      event = setAt(event, path, mutated);
    }
    yield event;
  }
}
