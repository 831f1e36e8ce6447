/** One installed package. Its real directory is its identity: two versions of a name are two packages. */
export interface PackageNode {
  /** The package's real directory. */
  id: string;
  name: string;
  version: string;
  /** Its dependencies as they resolve from where it is installed: name → id. Missing optional ones are absent. */
  dependencies: Readonly<Record<string, string>>;
}

/**
 * Which packages the layer holds (with their own dependencies):
 * - `"shared"`: those the bundles of at least two of the functions import;
 * - `"all"`: every package any function imports;
 * - a list of names, where `@scope/*` stands for a whole scope.
 */
export type LayerSelection = "shared" | "all" | readonly string[];

export interface LayerPlanInput {
  /** Per function, the ids of the packages its bundle would hold (imported directly or through others). */
  usage: Readonly<Record<string, readonly string[]>>;
  /** Every package in `usage`, and every package their dependencies resolve to. */
  packages: ReadonlyMap<string, PackageNode>;
  selection: LayerSelection;
}

export interface LayerPlan {
  /** The packages the selection chose, in the order they were placed. */
  chosen: string[];
  /** Where each copy goes under `nodejs/node_modules/`: `"a"` for the top level, `"a/node_modules/b"` nested. */
  placements: Map<string, string>;
  /** Name → id of the packages at the top level: a function's bundle can leave exactly these to the layer. */
  top: Map<string, string>;
  /** Packages the selection chose that cannot be at the top (another version of the name is): they stay bundled. */
  displaced: string[];
}

/** Whether a name is in a list of names and `@scope/*` patterns. */
export function matchesPackageList(name: string, list: readonly string[]): boolean {
  return list.some((pattern) => pattern === name || (pattern.endsWith("/*") && name.startsWith(pattern.slice(0, -1))));
}

/**
 * Decides what a Lambda layer holds and where, like npm lays out `node_modules`: the chosen packages at
 * the top level, where a bare `require` from a function's bundle finds them through `NODE_PATH`, then
 * each one's dependencies at the highest place its own `require` reaches that no other version
 * occupies, nested under the dependent when one does. Pure: the caller reads the packages from disk.
 *
 * @example
 * ```ts
 * const plan = planLayer({ usage: { a: ["/p/x"], b: ["/p/x"] }, packages, selection: "shared" });
 * plan.placements; // Map { "x" => "/p/x", … }
 * ```
 */
export function planLayer(input: LayerPlanInput): LayerPlan {
  const users = new Map<string, number>();
  for (const ids of Object.values(input.usage)) for (const id of new Set(ids)) users.set(id, (users.get(id) ?? 0) + 1);
  const node = (id: string): PackageNode => {
    const found = input.packages.get(id);
    if (!found) throw new Error(`no package information for ${id}`);
    return found;
  };
  const { selection } = input;
  // Most used first, so that when two versions of a name are chosen the one more functions use is the
  // one at the top; then by name, so the plan does not depend on the order the bundler met them.
  const chosen = [...users.keys()]
    .filter((id) =>
      selection === "shared" ? (users.get(id) ?? 0) >= 2 : selection === "all" ? true : matchesPackageList(node(id).name, selection),
    )
    .sort((a, b) => (users.get(b) ?? 0) - (users.get(a) ?? 0) || compare(node(a).name, node(b).name) || compare(a, b));

  const placements = new Map<string, string>();
  const displaced: string[] = [];
  for (const id of chosen) {
    const name = node(id).name;
    if (placements.has(name)) displaced.push(id);
    else placements.set(name, id);
  }

  // Node looks for `name` in `<location>/node_modules`, then in each enclosing node_modules, up to the
  // layer's own (and then NODE_PATH, which the layer is the first entry of).
  const visible = (location: string, name: string): string | undefined => {
    let at = location;
    for (;;) {
      const found = placements.get(`${at}/node_modules/${name}`);
      if (found) return found;
      const cut = at.lastIndexOf("/node_modules/");
      if (cut < 0) return placements.get(name);
      at = at.slice(0, cut);
    }
  };
  const placeDependencies = (location: string, id: string, depth: number) => {
    // Only a cycle through two versions of the same names, each shadowing the other, nests without end.
    if (depth > 64) throw new Error(`dependencies nest deeper than 64 levels (a cycle between versions?) under ${location.slice(0, 200)}…`);
    // All of a package's own dependencies are placed before any of theirs: a copy nested here later
    // would shadow, for the packages already below, whatever they had found further up.
    const placed: Array<[string, string]> = [];
    for (const [name, dependency] of Object.entries(node(id).dependencies).sort(([a], [b]) => compare(a, b))) {
      const found = visible(location, name);
      if (found === dependency) continue;
      // Nothing of that name is reachable: the top level is free. Another version is: nest it here.
      const at = found === undefined ? name : `${location}/node_modules/${name}`;
      placements.set(at, dependency);
      placed.push([at, dependency]);
    }
    for (const [at, dependency] of placed) placeDependencies(at, dependency, depth + 1);
  };
  for (const [location, id] of [...placements]) placeDependencies(location, id, 0);

  const top = new Map<string, string>();
  for (const [location, id] of placements) if (!location.includes("/node_modules/")) top.set(location, id);
  return { chosen: chosen.filter((id) => !displaced.includes(id)), placements, top, displaced };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
