/**
 * Builds a neutral query map from name/value pairs: one value stays a string, repeated values become an
 * array in the order given, and nothing is reduced to the last value.
 *
 * @example
 * ```ts
 * queryFromPairs([["tag", "a"], ["tag", "b"], ["one", "1"]]); // { tag: ["a", "b"], one: "1" }
 * ```
 */
export function queryFromPairs(pairs: Iterable<readonly [string, string]>): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of pairs) {
    const existing = query[name];
    if (existing === undefined) query[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else query[name] = [existing, value];
  }
  return query;
}

/**
 * Lower-cases header names; a repeated header's values are joined with `, ` (cookies with `; `), as
 * RFC 9110 allows for every header but `Set-Cookie`, which requests do not carry.
 *
 * @example
 * ```ts
 * headersFromPairs([["X-A", "1"], ["x-a", "2"]]); // { "x-a": "1, 2" }
 * ```
 */
export function headersFromPairs(pairs: Iterable<readonly [string, string]>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [rawName, value] of pairs) {
    const name = rawName.toLowerCase();
    const existing = headers[name];
    headers[name] = existing === undefined ? value : `${existing}${name === "cookie" ? "; " : ", "}${value}`;
  }
  return headers;
}
