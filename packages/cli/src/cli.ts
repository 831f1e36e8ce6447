import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createLogger, EventTranslationError, SluiceError, type Outcome, type SluiceFunction, type Trigger } from "@sluice/core";
import { LocalMessaging, toLocal, type LocalFunction } from "@sluice/local";
import { loadEntry, type EntryFunction } from "./load-entry.js";
import { buildFunction, buildWithLayer, type LayerBuildResult } from "./build.js";
import type { LayerSelection } from "./layer-plan.js";
import { serveHttp } from "./http-server.js";
import { displayPath } from "./layer.js";
import { openReplaySource, replay, type ReplaySource, type ReplaySummary } from "./replay.js";

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Redraws one progress line in place, where the output is a terminal; `""` clears it. */
  progress?: (line: string) => void;
}

const USAGE = `Usage: sluice <command> [options]

Commands:
  dev <entry>                     Run the entry's functions on this machine: object triggers watch their
                                  bucket's directory, messages triggers read their stream or queue's
                                  directory (beside --root, under messages/), HTTP triggers are served
                                  on 127.0.0.1.
  invoke <entry> --event <file>   Run a function once on a neutral event (JSON) and print the outcome.
  build <entry> --target <cloud>  Build a deployable artifact of a function: aws (a Lambda zip), gcp (a Cloud
                                  Functions source folder) or azure (a Functions app folder).
  replay <entry> --from <source>  Run a function over objects that already exist, as if each had just
                                  been created. <source>: a bucket directory, s3://b/p, gs://b/p,
                                  azblob://container/p. Resumable: finished objects are checkpointed.

Options:
  --root <dir>        Directory holding one directory per bucket (default .sluice/buckets)
  --messages <dir>    Directory holding one directory per stream, queue or topic (default: messages/
                      beside --root, so .sluice/messages)
  --function <name>   Which function, when the entry exports several
  --port <n>          dev: port for HTTP functions (default 3000)
  --existing          dev: also run on files already in the bucket
  --prefix <p>        replay: only keys starting with p
  --since <time>      replay: only objects modified at or after this ISO time
  --until <time>      replay: only objects modified before this ISO time
  --concurrency <n>   replay: objects at once (default 4)
  --checkpoint <file> replay: where finished objects are recorded (default under .sluice/replay)
  --dry-run           replay: list what would run
  --target <cloud>    build: aws, gcp or azure
  --out <dir>         build: output directory (default .sluice/build/<target>/<function>)
  --bundle-sdk        build: aws: bundle the AWS SDK instead of using the runtime's
  --layer             build: aws: also write layer.zip, a Lambda layer (nodejs/node_modules/…) of the
                      packages the functions share, as installed in your project; each function's
                      bundle (CommonJS, so it finds the layer through NODE_PATH) leaves them out.
                      --out is then the folder for <function>/ and layer.zip (default .sluice/build/aws)
  --layer-packages <p>
                      build --layer: which packages go to the layer, each with its dependencies:
                      shared (default: those at least two of the functions import, the AWS SDK and
                      Sluice included), all (every package), or names: @sluice/*,@aws-sdk/*,tslib
  --no-minify         build: keep the bundle readable
  --log-level <l>     debug | info | warn | error (default info)
  -h, --help          Show this help`;

/**
 * Runs the `sluice` command line and returns its exit code. `dev` resolves only when `signal` aborts.
 *
 * @example
 * ```ts
 * process.exitCode = await main(process.argv.slice(2));
 * ```
 */
export async function main(argv: string[], io: CliIo = defaultIo, signal?: AbortSignal): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, entry] = positionals;
  if (values.help || !command) {
    io.out(USAGE);
    return command || values.help ? 0 : 2;
  }
  if (!entry) {
    io.err(`sluice ${command}: an entry file is needed\n\n${USAGE}`);
    return 2;
  }
  try {
    const functions = select(await loadEntry(entry), values.function);
    const logLevel = (values["log-level"] ?? "info") as "debug" | "info" | "warn" | "error";
    const messaging = values.messages === undefined ? undefined : new LocalMessaging({ root: values.messages });
    const localOf = (item: EntryFunction): LocalFunction => item.local ?? toLocal(item.fn, { root: values.root, logLevel, messaging });
    if (command === "invoke") {
      if (!values.event) throw new SluiceError("USAGE", "sluice invoke needs --event <file>");
      if (functions.length > 1)
        throw new SluiceError("USAGE", `the entry exports ${functions.length} functions; choose one with --function`);
      const event = JSON.parse(await readFile(values.event, "utf8"));
      const outcome = await localOf(functions[0] as EntryFunction).invoke(event);
      io.out(JSON.stringify(printable(outcome), null, 2));
      return outcome.status === "failed" ? 1 : 0;
    }
    if (command === "build") {
      const target = values.target;
      if (target !== "aws" && target !== "gcp" && target !== "azure")
        throw new SluiceError("USAGE", "sluice build needs --target aws, gcp or azure");
      if (values.layer || values["layer-packages"] !== undefined) {
        if (target !== "aws") throw new SluiceError("USAGE", "--layer is for --target aws (Lambda layers)");
        io.out(
          `building ${functions.length} function${functions.length === 1 ? "" : "s"} and a layer: ${functions.map((item) => item.fn.name).join(", ")}`,
        );
        const result = await buildWithLayer({
          entry,
          fns: functions,
          out: values.out,
          packages: parseLayerSelection(values["layer-packages"]),
          bundleSdk: values["bundle-sdk"],
          minify: !values["no-minify"],
        });
        for (const line of layerReport(result)) io.out(line);
        return 0;
      }
      if (functions.length > 1 && !values.out) {
        io.out(`building ${functions.length} functions: ${functions.map((item) => item.fn.name).join(", ")}`);
      }
      for (const item of functions) {
        const result = await buildFunction({
          entry,
          fn: item,
          target,
          out: functions.length > 1 && values.out ? join(values.out, item.fn.name) : values.out,
          bundleSdk: values["bundle-sdk"],
          minify: !values["no-minify"],
        });
        io.out(`built ${result.functionName} for ${result.target}: ${result.artifact} (entry point ${result.entryPoint})`);
        for (const file of result.files) io.out(`  ${file.path}  ${formatBytes(file.bytes)}`);
      }
      return 0;
    }
    if (command === "replay") {
      if (!values.from) throw new SluiceError("USAGE", "sluice replay needs --from <source>");
      if (functions.length > 1)
        throw new SluiceError("USAGE", `the entry exports ${functions.length} functions; choose one with --function`);
      const item = functions[0] as EntryFunction;
      const source = await openReplaySource(values.from);
      const started = Date.now();
      const summary = await replay(item.fn, source, {
        prefix: values.prefix,
        since: parseTime(values.since, "--since"),
        until: parseTime(values.until, "--until"),
        concurrency: values.concurrency === undefined ? undefined : Number(values.concurrency),
        dryRun: values["dry-run"],
        checkpoint: values.checkpoint,
        log: createLogger({ level: logLevel, write: (line) => io.err(line) }),
        onProgress: (done, total) => io.progress?.(progressLine(done, total, Date.now() - started)),
      });
      io.progress?.("");
      io.out(replaySummary(item.fn, source, summary));
      return summary.failed.length > 0 ? 1 : 0;
    }
    if (command === "dev") {
      await dev(
        functions.map((item) => ({ name: item.fn.name, trigger: item.fn.trigger as Trigger, local: localOf(item) })),
        values,
        io,
        signal,
      );
      return 0;
    }
    io.err(`unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
    return 2;
  } catch (error) {
    if (error instanceof EventTranslationError) io.err(`the event file is not a valid event: ${error.message}`);
    else if (error instanceof SluiceError) io.err(error.message);
    else if (error instanceof SyntaxError) io.err(`not valid JSON: ${error.message}`);
    else io.err(error instanceof Error ? (error.stack ?? error.message) : String(error));
    return 1;
  }
}

const defaultIo: CliIo = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  progress: (line) => {
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${line}`);
  },
};

function formatBytes(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / 1024 / 1024).toFixed(2)} MiB`;
}

function parseLayerSelection(value: string | undefined): LayerSelection {
  if (value === undefined || value === "shared" || value === "all") return value ?? "shared";
  const names = value
    .split(",")
    .map((name) => name.trim())
    .filter(Boolean);
  const invalid = names.find((name) => !/^(@[a-z0-9-~][a-z0-9-._~]*\/)?([a-z0-9-~][a-z0-9-._~]*|\*)$/.test(name));
  if (names.length === 0 || invalid !== undefined) {
    throw new SluiceError(
      "USAGE",
      `--layer-packages takes shared, all, or package names (@scope/* for a scope), not ${JSON.stringify(invalid ?? value)}`,
    );
  }
  return names;
}

/** What went where: each function's zip and what it still bundles, then the layer and what it holds. */
function layerReport(result: LayerBuildResult): string[] {
  const lines: string[] = [];
  for (const built of result.functions) {
    lines.push(`built ${built.functionName} for aws: ${displayPath(built.artifact)} (entry point ${built.entryPoint}, CommonJS)`);
    for (const file of built.files) lines.push(`  ${file.path}  ${formatBytes(file.bytes)}`);
    const own = result.bundled[built.functionName] ?? [];
    lines.push(`  bundled packages: ${own.length > 0 ? own.join(", ") : "none (your code only)"}`);
  }
  const { layer } = result;
  lines.push(
    `built the layer: ${displayPath(layer.artifact)}  ${formatBytes(layer.bytes)} (${formatBytes(layer.unpackedBytes)} unpacked, ${layer.files} files, ${layer.packages.length} packages)`,
  );
  const byUsers = new Map<string, string[]>();
  for (const item of layer.packages.filter((item) => item.chosen)) {
    const users = item.usedBy.join(", ");
    byUsers.set(users, [...(byUsers.get(users) ?? []), `${item.name}@${item.version}`]);
  }
  for (const [users, names] of byUsers) lines.push(`  used by ${users}: ${names.join(", ")}`);
  const dependencies = layer.packages.filter((item) => !item.chosen).map((item) => `${item.location}@${item.version}`);
  if (dependencies.length > 0) lines.push(`  and their dependencies: ${dependencies.join(", ")}`);
  if (result.runtime.length > 0) lines.push(`  left to the Lambda runtime: ${result.runtime.join(", ")}`);
  if (result.displaced.length > 0)
    lines.push(`  bundled instead, as another version of the name is in the layer: ${result.displaced.join(", ")}`);
  // https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: function and layers together.
  if (layer.unpackedBytes + Math.max(...result.functions.map((fn) => fn.files[0]?.bytes ?? 0)) > 250 * 1024 * 1024) {
    lines.push("  warning: more than Lambda's 250 MB limit for a function and its layers, unpacked");
  }
  if (layer.nativeFiles.length > 0) {
    lines.push(
      `  warning: native code built for ${process.platform}-${process.arch}, which runs only on a Lambda of that architecture: ${layer.nativeFiles.join(", ")}`,
    );
  }
  return lines;
}

function parseTime(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new SluiceError("USAGE", `${flag} needs an ISO 8601 time, got ${JSON.stringify(value)}`);
  return new Date(time);
}

function progressLine(done: number, total: number, elapsedMs: number): string {
  const width = 24;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  const rate = elapsedMs > 0 ? done / (elapsedMs / 1000) : 0;
  const eta = rate > 0 ? Math.ceil((total - done) / rate) : 0;
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${done}/${total} objects, ${rate.toFixed(1)}/s, ETA ${eta} s`;
}

function replaySummary(fn: SluiceFunction, source: ReplaySource, summary: ReplaySummary): string {
  const lines = [
    `${summary.dryRun ? "Would replay" : "Replayed"} ${fn.name} over ${source.label}: ${summary.objects} objects`,
    `  already done (checkpoint) ${summary.skippedByCheckpoint}`,
  ];
  if (!summary.dryRun) {
    lines.push(
      `  ok                        ${summary.ok}`,
      `  outside the trigger       ${summary.ignored}`,
      `  routed to onFailure       ${summary.routed}`,
    );
    lines.push(`  failed (run again to retry) ${summary.failed.length}`);
    for (const failure of summary.failed.slice(0, 10)) lines.push(`    ${failure.key}: ${failure.error}`);
    const destination = fn.onFailure;
    if (destination?.kind === "objectStore") lines.push(`  failures and quarantined records go to ${destination.bucket}`);
    if (destination?.kind === "stream" || destination?.kind === "queue") {
      lines.push(`  failures and quarantined records go to ${destination.kind} ${destination.name}`);
    }
  }
  return lines.join("\n");
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      root: { type: "string" },
      messages: { type: "string" },
      function: { type: "string" },
      event: { type: "string" },
      port: { type: "string" },
      existing: { type: "boolean", default: false },
      from: { type: "string" },
      prefix: { type: "string" },
      since: { type: "string" },
      until: { type: "string" },
      concurrency: { type: "string" },
      checkpoint: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      target: { type: "string" },
      out: { type: "string" },
      "bundle-sdk": { type: "boolean", default: false },
      layer: { type: "boolean", default: false },
      "layer-packages": { type: "string" },
      "no-minify": { type: "boolean", default: false },
      "log-level": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}

function select(functions: EntryFunction[], name: string | undefined): EntryFunction[] {
  if (!name) return functions;
  const chosen = functions.filter((item) => item.fn.name === name || item.exportName === name);
  if (chosen.length === 0) {
    throw new SluiceError("USAGE", `no function named ${name}; the entry has ${functions.map((item) => item.fn.name).join(", ")}`);
  }
  return chosen;
}

/** The outcome as JSON: errors as name and message, bytes as base64. */
function printable(outcome: Outcome): unknown {
  return JSON.parse(
    JSON.stringify(outcome, (_key, value) => {
      if (value instanceof Error) return { name: value.name, message: value.message };
      if (value instanceof Uint8Array) return { base64: Buffer.from(value).toString("base64") };
      return value;
    }),
  );
}

async function dev(
  functions: Array<{ name: string; trigger: Trigger; local: LocalFunction }>,
  values: ReturnType<typeof parse>["values"],
  io: CliIo,
  signal?: AbortSignal,
): Promise<void> {
  const closers: Array<() => Promise<void>> = [];
  let port = Number(values.port ?? 3000);
  for (const { name, trigger, local } of functions) {
    if (trigger.kind === "object.created" || trigger.kind === "object.deleted") {
      const watch = local.watch({
        existing: values.existing,
        onOutcome: (event, outcome) => io.out(`${name}: ${event.kind} ${event.bucket}/${event.key} → ${describeOutcome(outcome)}`),
      });
      closers.push(() => watch.close());
      const where = `${trigger.bucket}/${trigger.prefix ?? ""}*${trigger.suffix ?? ""}`;
      io.out(`${name}: watching ${where} for ${trigger.kind === "object.created" ? "new" : "deleted"} objects`);
    } else if (trigger.kind === "http") {
      const { server, url } = await serveHttp((event) => local.invoke(event), {
        port: port === 0 ? 0 : port++,
        onRequest: (method, path, status) => io.out(`${name}: ${method} ${path} → ${status}`),
      });
      closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
      io.out(`${name}: serving ${url}${trigger.path ?? "/"}`);
    } else if (trigger.kind === "messages") {
      const watch = local.watch({
        onBatch: (event, outcome) => io.out(`${name}: ${event.messages.length} messages from ${event.name} → ${describeOutcome(outcome)}`),
      });
      closers.push(() => watch.close());
      io.out(`${name}: reading ${trigger.source} ${trigger.name} from ${local.messaging.directory(trigger.name)}`);
    } else {
      io.out(`${name}: ${trigger.kind} triggers do not run by themselves locally; use sluice invoke with an event file`);
    }
  }
  await new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    signal?.addEventListener("abort", () => resolve(), { once: true });
    if (!signal) {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    }
  });
  for (const close of closers) await close();
}

function describeOutcome(outcome: Outcome): string {
  switch (outcome.status) {
    case "failed":
    case "routed":
      return `${outcome.status}: ${outcome.error instanceof Error ? outcome.error.message : String(outcome.error)}`;
    case "ignored":
      return `ignored (${outcome.reason})`;
    case "messages":
      return outcome.failedMessageIds.length + outcome.routedMessageIds.length === 0
        ? "ok"
        : `${outcome.failedMessageIds.length} to retry, ${outcome.routedMessageIds.length} routed to onFailure`;
    default:
      return outcome.status;
  }
}
