import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import fc from "fast-check";
import { unzipSync } from "fflate";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buildWithLayer, main } from "../src/index.js";
import { PackageIndex, productionFiles, zipLayer } from "../src/layer.js";
import { type LayerPlan, type PackageNode, planLayer } from "../src/layer-plan.js";

/** Packages as `name@version` ids, with dependencies given the same way. */
function graph(spec: Record<string, string[]>): Map<string, PackageNode> {
  return new Map(
    Object.entries(spec).map(([id, dependencies]) => {
      const at = id.lastIndexOf("@");
      const node = {
        id,
        name: id.slice(0, at),
        version: id.slice(at + 1),
        dependencies: Object.fromEntries(dependencies.map((dependency) => [dependency.slice(0, dependency.lastIndexOf("@")), dependency])),
      };
      return [id, node];
    }),
  );
}

/** What `require(name)` from a package placed at `location` finds, walking up as Node does. */
function resolveIn(plan: LayerPlan, location: string, name: string): string | undefined {
  let at = location;
  for (;;) {
    const found = plan.placements.get(`${at}/node_modules/${name}`);
    if (found) return found;
    const cut = at.lastIndexOf("/node_modules/");
    if (cut < 0) return plan.placements.get(name);
    at = at.slice(0, cut);
  }
}

describe("planLayer: which packages the layer holds", () => {
  const packages = graph({
    "@sluice/aws@1.0.0": ["@sluice/core@1.0.0", "@aws-sdk/client-s3@3.1.0"],
    "@sluice/core@1.0.0": [],
    "@aws-sdk/client-s3@3.1.0": ["tslib@2.8.0"],
    "tslib@2.8.0": [],
    "csv-parse@5.0.0": [],
    "left-pad@1.3.0": [],
  });
  const usage = {
    ingest: ["@sluice/aws@1.0.0", "@sluice/core@1.0.0", "@aws-sdk/client-s3@3.1.0", "tslib@2.8.0", "csv-parse@5.0.0"],
    report: ["@sluice/aws@1.0.0", "@sluice/core@1.0.0", "@aws-sdk/client-s3@3.1.0", "tslib@2.8.0", "left-pad@1.3.0"],
    export: ["@sluice/core@1.0.0", "csv-parse@5.0.0"],
  };

  it("shared: the packages at least two functions import, and nothing only one does", () => {
    const plan = planLayer({ usage, packages, selection: "shared" });
    expect([...plan.placements.keys()].sort()).toEqual(["@aws-sdk/client-s3", "@sluice/aws", "@sluice/core", "csv-parse", "tslib"]);
    expect(plan.placements.has("left-pad")).toBe(false);
    expect(plan.displaced).toEqual([]);
  });

  it("all: every package any function imports", () => {
    const plan = planLayer({ usage, packages, selection: "all" });
    expect([...plan.top.keys()].sort()).toEqual(["@aws-sdk/client-s3", "@sluice/aws", "@sluice/core", "csv-parse", "left-pad", "tslib"]);
  });

  it("names: exactly those, a scope by @scope/*, each with its own dependencies", () => {
    const plan = planLayer({ usage, packages, selection: ["@aws-sdk/*", "left-pad"] });
    expect(plan.chosen.sort()).toEqual(["@aws-sdk/client-s3@3.1.0", "left-pad@1.3.0"]);
    // tslib was not named, but client-s3 requires it, so the layer holds it too.
    expect(Object.fromEntries(plan.placements)).toEqual({
      "@aws-sdk/client-s3": "@aws-sdk/client-s3@3.1.0",
      "left-pad": "left-pad@1.3.0",
      tslib: "tslib@2.8.0",
    });
  });

  it("a package one function imports but a shared one depends on is in the layer as a dependency", () => {
    const plan = planLayer({
      usage: { a: ["x@1.0.0", "y@1.0.0"], b: ["x@1.0.0"] },
      packages: graph({ "x@1.0.0": ["y@1.0.0"], "y@1.0.0": [] }),
      selection: "shared",
    });
    expect(plan.chosen).toEqual(["x@1.0.0"]);
    expect(plan.top.get("y")).toBe("y@1.0.0");
  });

  it("nests a second version of a name under the package that needs it, as npm does", () => {
    const plan = planLayer({
      usage: { a: ["app-kit@1.0.0", "tslib@2.8.0"], b: ["app-kit@1.0.0", "tslib@2.8.0"] },
      packages: graph({ "app-kit@1.0.0": ["tslib@1.14.1"], "tslib@2.8.0": [], "tslib@1.14.1": [] }),
      selection: "shared",
    });
    expect(Object.fromEntries(plan.placements)).toEqual({
      "app-kit": "app-kit@1.0.0",
      tslib: "tslib@2.8.0",
      "app-kit/node_modules/tslib": "tslib@1.14.1",
    });
  });

  it("of two chosen versions of a name, the one more functions use is at the top and the other stays bundled", () => {
    const plan = planLayer({
      usage: { a: ["uuid@9.0.0"], b: ["uuid@9.0.0"], c: ["uuid@8.3.2"], d: ["uuid@8.3.2"], e: ["uuid@9.0.0"] },
      packages: graph({ "uuid@9.0.0": [], "uuid@8.3.2": [] }),
      selection: "shared",
    });
    expect(plan.top.get("uuid")).toBe("uuid@9.0.0");
    expect(plan.displaced).toEqual(["uuid@8.3.2"]);
  });

  it("lays out cycles once", () => {
    const plan = planLayer({
      usage: { a: ["p@1.0.0"], b: ["p@1.0.0"] },
      packages: graph({ "p@1.0.0": ["q@1.0.0"], "q@1.0.0": ["p@1.0.0"] }),
      selection: "shared",
    });
    expect(Object.fromEntries(plan.placements)).toEqual({ p: "p@1.0.0", q: "q@1.0.0" });
  });

  it("does not depend on the order the functions or their packages are listed in", () => {
    const forward = planLayer({ usage, packages, selection: "shared" });
    const reversed = planLayer({
      usage: Object.fromEntries(
        Object.entries(usage)
          .reverse()
          .map(([name, ids]) => [name, [...ids].reverse()]),
      ),
      packages,
      selection: "shared",
    });
    expect([...reversed.placements].sort()).toEqual([...forward.placements].sort());
  });

  it("property: every package in the layer finds each of its dependencies at the version it was installed with", () => {
    const names = ["a", "b", "c", "d", "e"];
    const versions = ["1.0.0", "2.0.0"];
    const ids = names.flatMap((name) => versions.map((version) => `${name}@${version}`));
    const arbitrary = fc.record({
      // Each package depends on at most one version of each name after its own: versions in a cycle that
      // shadow one another have no finite layout (planLayer refuses those), and real packages do not do that.
      dependencies: fc.tuple(
        ...ids.map((id) =>
          fc
            .subarray(names.filter((name) => name > id.slice(0, id.indexOf("@"))))
            .chain((picked) => fc.tuple(...picked.map((name) => fc.constantFrom(...versions.map((version) => `${name}@${version}`))))),
        ),
      ),
      usage: fc.array(fc.subarray(ids, { minLength: 1 }), { minLength: 1, maxLength: 4 }),
      selection: fc.constantFrom<"shared" | "all">("shared", "all"),
    });
    fc.assert(
      fc.property(arbitrary, ({ dependencies, usage: lists, selection }) => {
        const packages = graph(Object.fromEntries(ids.map((id, index) => [id, dependencies[index] as string[]])));
        const plan = planLayer({ usage: Object.fromEntries(lists.map((list, index) => [`fn${index}`, list])), packages, selection });
        for (const [location, id] of plan.placements) {
          for (const [name, dependency] of Object.entries(packages.get(id)?.dependencies ?? {})) {
            expect(resolveIn(plan, location, name)).toBe(dependency);
          }
        }
        for (const id of plan.chosen) expect(plan.top.get(packages.get(id)?.name ?? "")).toBe(id);
      }),
      { numRuns: 300 },
    );
  });
});

describe("reading packages from disk", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "sluice-layer-"));
  });
  afterEach(async () => rm(root, { recursive: true, force: true }));

  const write = async (path: string, content: string | object) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), typeof content === "string" ? content : JSON.stringify(content));
  };

  it("a package's production files: its files field, package.json, readme and licence, no types or node_modules", async () => {
    await write("pkg/package.json", {
      name: "pkg",
      version: "1.0.0",
      main: "./main.js",
      files: ["dist", "lib/*.js", "!dist/**/*.test.js"],
    });
    for (const path of [
      "main.js",
      "README.md",
      "LICENSE",
      "dist/index.js",
      "dist/index.d.ts",
      "dist/deep/more.cjs",
      "dist/deep/more.test.js",
      "lib/a.js",
      "lib/a.ts",
      "src/index.ts",
      "test/index.test.ts",
      "node_modules/dep/index.js",
    ])
      await write(`pkg/${path}`, "x");
    expect(await productionFiles(join(root, "pkg"), { files: ["dist", "lib/*.js", "!dist/**/*.test.js"], main: "./main.js" })).toEqual([
      "LICENSE",
      "README.md",
      "dist/deep/more.cjs",
      "dist/index.js",
      "lib/a.js",
      "main.js",
      "package.json",
    ]);
    // Without a files field, everything that was installed, still without types and node_modules.
    expect(await productionFiles(join(root, "pkg"), {})).toHaveLength(11);
  });

  it("resolves dependencies the way Node does from where each package is installed, pnpm's symlinked layout included", async () => {
    // pnpm: the real directory is in the store folder, with its dependencies linked beside it.
    const store = "node_modules/.pnpm";
    await write(`${store}/shared@1.0.0/node_modules/shared/package.json`, {
      name: "shared",
      version: "1.0.0",
      dependencies: { tslib: "^1" },
    });
    await write(`${store}/shared@1.0.0/node_modules/shared/index.js`, "module.exports = 1");
    await write(`${store}/tslib@1.14.1/node_modules/tslib/package.json`, { name: "tslib", version: "1.14.1" });
    await write(`${store}/tslib@2.8.0/node_modules/tslib/package.json`, { name: "tslib", version: "2.8.0" });
    await write(`${store}/tslib@2.8.0/node_modules/tslib/dist/package.json`, { type: "module" });
    await write(`${store}/tslib@2.8.0/node_modules/tslib/dist/tslib.js`, "export {}");
    await symlink(join(root, `${store}/tslib@1.14.1/node_modules/tslib`), join(root, `${store}/shared@1.0.0/node_modules/tslib`));
    await symlink(join(root, `${store}/shared@1.0.0/node_modules/shared`), join(root, "node_modules/shared"));
    await symlink(join(root, `${store}/tslib@2.8.0/node_modules/tslib`), join(root, "node_modules/tslib"));

    const index = new PackageIndex();
    // A package.json without a name ({"type": "module"}) does not make a folder a package.
    const tslib2 = index.packageOf(join(root, "node_modules/tslib/dist/tslib.js"));
    expect([tslib2?.name, tslib2?.version]).toEqual(["tslib", "2.8.0"]);
    const shared = index.packageOf(join(root, "node_modules/shared/index.js"));
    const packages = index.graph([shared?.id as string, tslib2?.id as string]);
    expect(packages.get(shared?.id as string)?.dependencies.tslib).toBe(
      index.packageOf(join(root, `${store}/tslib@1.14.1/node_modules/tslib/x`))?.id,
    );

    const plan = planLayer({
      usage: { a: [shared?.id as string, tslib2?.id as string], b: [shared?.id as string, tslib2?.id as string] },
      packages,
      selection: "shared",
    });
    const zip = unzipSync((await zipLayer(plan, index)).zip);
    expect(Object.keys(zip).sort()).toEqual([
      "nodejs/node_modules/shared/index.js",
      "nodejs/node_modules/shared/node_modules/tslib/package.json",
      "nodejs/node_modules/shared/package.json",
      "nodejs/node_modules/tslib/dist/package.json",
      "nodejs/node_modules/tslib/dist/tslib.js",
      "nodejs/node_modules/tslib/package.json",
    ]);
  });

  it("skips optional peers and missing optional dependencies, and names a missing required one", async () => {
    await write("node_modules/core/package.json", {
      name: "core",
      version: "1.0.0",
      optionalDependencies: { fsevents: "2" },
      peerDependencies: { vitest: ">=3" },
      peerDependenciesMeta: { vitest: { optional: true } },
    });
    await write("node_modules/vitest/package.json", { name: "vitest", version: "4.0.0" });
    await write("node_modules/broken/package.json", { name: "broken", version: "1.0.0", dependencies: { gone: "1" } });
    const index = new PackageIndex();
    const core = index.packageOf(join(root, "node_modules/core/index.js"))?.id as string;
    expect(index.graph([core]).get(core)?.dependencies).toEqual({});
    const broken = index.packageOf(join(root, "node_modules/broken/index.js"))?.id as string;
    expect(() => index.graph([broken])).toThrow(/broken depends on gone, which is not installed/);
  });
});

describe("sluice build --layer: what it refuses", () => {
  const entry = fileURLToPath(new URL("./fixtures/entry.ts", import.meta.url));
  const capture = () => {
    const err: string[] = [];
    return { io: { out: () => undefined, err: (line: string) => err.push(line) }, err };
  };

  it("a target other than aws", async () => {
    const { io, err } = capture();
    expect(await main(["build", entry, "--target", "gcp", "--layer"], io)).toBe(1);
    expect(err.join("\n")).toMatch(/--layer is for --target aws/);
  });

  it("a package list that is not one", async () => {
    const { io, err } = capture();
    expect(await main(["build", entry, "--target", "aws", "--layer", "--layer-packages", "../secrets"], io)).toBe(1);
    expect(err.join("\n")).toMatch(/--layer-packages takes shared, all, or package names/);
  });
});

describe("buildWithLayer on a project of its own", () => {
  let root: string;
  const write = async (path: string, content: string | object) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), typeof content === "string" ? content : JSON.stringify(content));
  };
  const stub = (name: string, version: string, code: string, dependencies?: Record<string, string>, at = `node_modules/${name}`) =>
    Promise.all([write(`${at}/package.json`, { name, version, main: "index.js", dependencies }), write(`${at}/index.js`, code)]);
  const fn = (exportName: string, name: string) =>
    ({ exportName, fn: { __sluice: "function", name, trigger: { kind: "object.created", bucket: "raw" } } }) as any;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "sluice-layer-build-"));
    // Two functions in modules of their own; "sideEffects": false lets each bundle drop the other's.
    await write("package.json", { name: "app", version: "1.0.0", type: "module", sideEffects: false });
    await write("src/entry.js", 'export { ingest } from "./ingest.js";\nexport { report } from "./report.js";\n');
    await write(
      "src/ingest.js",
      'import tiny from "tiny";\nimport shared from "shared-lib";\nimport { S3Client } from "@aws-sdk/client-s3";\n' +
        'export const ingest = { __sluice: "function", name: "ingest", trigger: { kind: "invoke" }, handler: () => ({ own: tiny, shared: shared(), sdk: S3Client }) };\n',
    );
    await write(
      "src/report.js",
      'import shared from "shared-lib";\nimport only from "only-report";\n' +
        'export const report = { __sluice: "function", name: "report", trigger: { kind: "invoke" }, handler: () => ({ shared: shared(), only }) };\n',
    );
    // A stand-in for the adapter: the handler runs the function's handler.
    await stub("@sluice/aws", "1.0.0", "exports.toLambda = (fn) => async () => fn.handler();");
    await stub("shared-lib", "1.0.0", 'module.exports = () => "shared with " + require("tiny");', { tiny: "^2" });
    await stub("tiny", "2.0.0", 'module.exports = "tiny 2";', undefined, "node_modules/shared-lib/node_modules/tiny");
    await stub("tiny", "1.0.0", 'module.exports = "tiny 1";');
    await stub("only-report", "1.0.0", 'module.exports = "only in report";');
    await stub("@aws-sdk/client-s3", "3.0.0", 'exports.S3Client = "the runtime\'s SDK";');
  });
  afterEach(async () => rm(root, { recursive: true, force: true }));

  it("shared: the layer holds what both import; the rest is bundled where used; the SDK one uses is the runtime's", async () => {
    const result = await buildWithLayer({
      entry: join(root, "src/entry.js"),
      fns: [fn("ingest", "ingest"), fn("report", "report")],
      out: join(root, "build"),
      minify: false,
    });
    expect(result.layer.packages.map((item) => [item.location, item.version, item.chosen, item.usedBy])).toEqual([
      ["@sluice/aws", "1.0.0", true, ["ingest", "report"]],
      ["shared-lib", "1.0.0", true, ["ingest", "report"]],
      // shared-lib's own tiny is the layer's; the tiny ingest imports itself is another version, so bundled.
      ["tiny", "2.0.0", true, ["ingest", "report"]],
    ]);
    expect(result.bundled).toEqual({ ingest: ["tiny@1.0.0"], report: ["only-report@1.0.0"] });
    expect(result.runtime).toEqual(["@aws-sdk/client-s3"]);
    expect(result.displaced).toEqual([]);
    const layer = unzipSync(new Uint8Array(await readFile(result.layer.artifact)));
    expect(Object.keys(layer).sort()).toEqual([
      "nodejs/node_modules/@sluice/aws/index.js",
      "nodejs/node_modules/@sluice/aws/package.json",
      "nodejs/node_modules/shared-lib/index.js",
      "nodejs/node_modules/shared-lib/package.json",
      "nodejs/node_modules/tiny/index.js",
      "nodejs/node_modules/tiny/package.json",
    ]);

    // Run each bundle as Lambda would: the layer unpacked, and on NODE_PATH before the runtime's modules.
    const opt = join(root, "opt");
    for (const [path, bytes] of Object.entries(layer)) {
      await mkdir(dirname(join(opt, path)), { recursive: true });
      await writeFile(join(opt, path), bytes);
    }
    await stub(
      "@aws-sdk/client-s3",
      "3.0.0",
      'exports.S3Client = "the runtime\'s SDK";',
      undefined,
      "runtime/node_modules/@aws-sdk/client-s3",
    );
    const NODE_PATH = [join(opt, "nodejs/node_modules"), join(root, "runtime/node_modules")].join(":");
    const run = async (name: string) => {
      // Outside the project, whose package.json says "type": "module", as /var/task has none above it.
      const task = join(root, "..", `${root.split("/").pop()}-task-${name}`);
      await mkdir(task, { recursive: true });
      const files = unzipSync(new Uint8Array(await readFile(join(root, "build", name, `${name}.zip`))));
      expect(Object.keys(files).sort()).toEqual(["index.js", "index.js.map"]);
      await writeFile(join(task, "index.js"), files["index.js"] as Uint8Array);
      const script = 'require("./index.js").handler().then((out) => process.stdout.write(JSON.stringify(out)))';
      try {
        const { stdout } = await promisify(execFile)(process.execPath, ["-e", script], { cwd: task, env: { NODE_PATH } });
        return JSON.parse(stdout);
      } finally {
        await rm(task, { recursive: true, force: true });
      }
    };
    expect(await run("ingest")).toEqual({ own: "tiny 1", shared: "shared with tiny 2", sdk: "the runtime's SDK" });
    expect(await run("report")).toEqual({ shared: "shared with tiny 2", only: "only in report" });
  });

  it("bundleSdk: the SDK the layer does not hold is bundled where used, not left to the runtime", async () => {
    const result = await buildWithLayer({
      entry: join(root, "src/entry.js"),
      fns: [fn("ingest", "ingest"), fn("report", "report")],
      out: join(root, "build"),
      bundleSdk: true,
    });
    expect(result.runtime).toEqual([]);
    expect(result.bundled).toEqual({ ingest: ["@aws-sdk/client-s3@3.0.0", "tiny@1.0.0"], report: ["only-report@1.0.0"] });
  });

  it("all: every package; of two chosen versions of a name, the more used one is in the layer", async () => {
    const result = await buildWithLayer({
      entry: join(root, "src/entry.js"),
      fns: [fn("ingest", "ingest"), fn("report", "report")],
      out: join(root, "build"),
      packages: "all",
    });
    expect(result.layer.packages.map((item) => `${item.location}@${item.version}`)).toEqual([
      "@aws-sdk/client-s3@3.0.0",
      "@sluice/aws@1.0.0",
      "only-report@1.0.0",
      "shared-lib@1.0.0",
      "tiny@2.0.0",
    ]);
    expect(result.displaced).toEqual(["tiny@1.0.0"]);
    expect(result.bundled).toEqual({ ingest: ["tiny@1.0.0"], report: [] });
    expect(result.runtime).toEqual([]);
  });

  it("sluice build --layer prints what went where, with sizes", async () => {
    const out: string[] = [];
    const io = { out: (line: string) => out.push(line), err: (line: string) => out.push(`error: ${line}`) };
    expect(await main(["build", join(root, "src/entry.js"), "--target", "aws", "--layer", "--out", join(root, "build")], io)).toBe(0);
    const text = out.join("\n").replaceAll(root, "<root>");
    expect(text).toMatch(/^building 2 functions and a layer: ingest, report$/m);
    expect(text).toMatch(/^built ingest for aws: <root>\/build\/ingest\/ingest\.zip \(entry point index\.handler, CommonJS\)$/m);
    expect(text).toMatch(/^ {2}<root>\/build\/ingest\/ingest\.zip {2}\d+(\.\d)? (B|KiB)$/m);
    expect(text).toMatch(/^ {2}bundled packages: tiny@1\.0\.0$/m);
    expect(text).toMatch(/^ {2}bundled packages: only-report@1\.0\.0$/m);
    expect(text).toMatch(/^built the layer: <root>\/build\/layer\.zip {2}\S+ (B|KiB) \(\S+ (B|KiB) unpacked, 6 files, 3 packages\)$/m);
    expect(text).toMatch(/^ {2}used by ingest, report: @sluice\/aws@1\.0\.0, shared-lib@1\.0\.0, tiny@2\.0\.0$/m);
    expect(text).toMatch(/^ {2}left to the Lambda runtime: @aws-sdk\/client-s3$/m);
  });

  it("refuses a layer of nothing", async () => {
    await expect(
      buildWithLayer({ entry: join(root, "src/entry.js"), fns: [fn("ingest", "ingest")], out: join(root, "build") }),
    ).rejects.toThrow(/share no package/);
  });
});
