import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { EventTranslationError, SluiceError, type Outcome, type Trigger } from "@sluice/core";
import { toLocal, type LocalFunction } from "@sluice/local";
import { loadEntry, type EntryFunction } from "./load-entry.js";
import { serveHttp } from "./http-server.js";

/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

const USAGE = `Usage: sluice <command> [options]

Commands:
  dev <entry>                     Run the entry's functions on this machine: object triggers watch their
                                  bucket's directory, HTTP triggers are served on 127.0.0.1.
  invoke <entry> --event <file>   Run a function once on a neutral event (JSON) and print the outcome.

Options:
  --root <dir>        Directory holding one directory per bucket (default .sluice/buckets)
  --function <name>   Which function, when the entry exports several
  --port <n>          dev: port for HTTP functions (default 3000)
  --existing          dev: also run on files already in the bucket
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
    const localOf = (item: EntryFunction): LocalFunction => item.local ?? toLocal(item.fn, { root: values.root, logLevel });
    if (command === "invoke") {
      if (!values.event) throw new SluiceError("USAGE", "sluice invoke needs --event <file>");
      if (functions.length > 1)
        throw new SluiceError("USAGE", `the entry exports ${functions.length} functions; choose one with --function`);
      const event = JSON.parse(await readFile(values.event, "utf8"));
      const outcome = await localOf(functions[0] as EntryFunction).invoke(event);
      io.out(JSON.stringify(printable(outcome), null, 2));
      return outcome.status === "failed" ? 1 : 0;
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

const defaultIo: CliIo = { out: (line) => console.log(line), err: (line) => console.error(line) };

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      root: { type: "string" },
      function: { type: "string" },
      event: { type: "string" },
      port: { type: "string" },
      existing: { type: "boolean", default: false },
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
    default:
      return outcome.status;
  }
}
