import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { matchHttpRoute, triggers } from "../src/index.js";

/** The route matching as it was before templates were parsed once: the reference the new one must equal. */
function referenceMatch(path: string, methods: readonly string[] | undefined, request: { method: string; path: string }) {
  const decode = (value: string) => {
    if (!value.includes("%")) return value;
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  };
  const params: Record<string, string> = {};
  const template = path.split("/");
  const actual = request.path.split("/");
  const greedy = template[template.length - 1]?.endsWith("+}");
  if (greedy ? actual.length < template.length : actual.length !== template.length) return { status: 404 };
  for (let index = 0; index < template.length; index++) {
    const part = template[index] as string;
    const value = actual[index] as string;
    if (part.startsWith("{") && part.endsWith("}")) {
      params[part.slice(1, part.endsWith("+}") ? -2 : -1)] = decode(part.endsWith("+}") ? actual.slice(index).join("/") : value);
    } else if (part !== value) {
      return { status: 404 };
    }
  }
  if (methods && !methods.includes(request.method.toUpperCase())) return { status: 405 };
  return Object.keys(params).length > 0 ? { status: 200, params } : { status: 200 };
}

describe("matchHttpRoute", () => {
  it("matches any path against any template exactly as the per-request parsing did", () => {
    const segment = fc.oneof(
      fc.constantFrom("items", "a", "", "{id}", "{rest+}", "{}", "{x", "y}", "%41", "%zz", "b%2Fc"),
      fc.string({ maxLength: 3 }),
    );
    const path = fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => `/${parts.join("/")}`);
    const concrete = fc
      .array(fc.oneof(segment, fc.constantFrom("items", "a", "1")), { minLength: 1, maxLength: 6 })
      .map((parts) => `/${parts.join("/")}`);
    fc.assert(
      fc.property(
        path,
        concrete,
        fc.option(fc.subarray(["GET", "POST"], { minLength: 1 }), { nil: undefined }),
        fc.constantFrom("get", "POST"),
        (template, actual, methods, method) => {
          const trigger = triggers.http({ path: template, methods });
          const result = matchHttpRoute(trigger, { method, path: actual });
          const expected = referenceMatch(template, trigger.methods, { method, path: actual });
          expect(result.status).toBe(expected.status);
          if (expected.status === 200) expect(result).toStrictEqual(expected);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("reads the route's parameters, the greedy one with its slashes", () => {
    expect(matchHttpRoute(triggers.http({ path: "/items/{id}" }), { method: "GET", path: "/items/s%2D1" })).toStrictEqual({
      status: 200,
      params: { id: "s-1" },
    });
    expect(matchHttpRoute(triggers.http({ path: "/files/{key+}" }), { method: "GET", path: "/files/a/b/c" })).toStrictEqual({
      status: 200,
      params: { key: "a/b/c" },
    });
    expect(matchHttpRoute(triggers.http({ path: "/items" }), { method: "GET", path: "/items" })).toStrictEqual({ status: 200 });
  });
});
