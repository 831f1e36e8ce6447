import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** What the runtime client answered for one invocation. */
export interface RuntimeAnswer {
  requestId: string;
  kind: "response" | "error";
  body: unknown;
}

/**
 * The Lambda Runtime API, as small as the runtime client needs: it hands out queued events on
 * `invocation/next` (holding the request open when there are none, as Lambda does) and records what comes
 * back on `response` and `error`. Served on 127.0.0.1 only.
 */
export class LambdaRuntimeApi {
  private readonly queue: Array<{ requestId: string; event: unknown }> = [];
  private waiting: Array<(item: { requestId: string; event: unknown }) => void> = [];
  private readonly answers = new Map<string, (answer: RuntimeAnswer) => void>();
  private server: Server | undefined;
  private initFailed: (error: unknown) => void = () => undefined;
  /** What the runtime client reports when the handler cannot even be loaded (`/runtime/init/error`). */
  readonly initError = new Promise<unknown>((resolve) => {
    this.initFailed = resolve;
  });
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk) => {
        body += chunk;
      });
      request.on("end", () => {
        const url = request.url ?? "";
        if (request.method === "GET" && url.endsWith("/runtime/invocation/next")) {
          const send = (item: { requestId: string; event: unknown }) => {
            response.writeHead(200, {
              "content-type": "application/json",
              "lambda-runtime-aws-request-id": item.requestId,
              "lambda-runtime-deadline-ms": String(Date.now() + 60_000),
              "lambda-runtime-invoked-function-arn": "arn:aws:lambda:us-east-1:123456789012:function:analyze-sensors",
              "lambda-runtime-trace-id": "Root=1-00000000-000000000000000000000000",
            });
            response.end(JSON.stringify(item.event));
          };
          const next = this.queue.shift();
          if (next) send(next);
          else this.waiting.push(send);
          return;
        }
        const match = /\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
        response.writeHead(202, { "content-type": "application/json" });
        response.end("{}");
        if (url.endsWith("/runtime/init/error")) this.initFailed(body ? JSON.parse(body) : undefined);
        if (match) {
          const requestId = decodeURIComponent(match[1] as string);
          this.answers.get(requestId)?.({ requestId, kind: match[2] as "response" | "error", body: body ? JSON.parse(body) : undefined });
        }
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    this.port = typeof address === "object" && address ? address.port : 0;
  }

  /** Queues an event and resolves with the runtime client's answer to it. */
  invoke(requestId: string, event: unknown): Promise<RuntimeAnswer> {
    const answered = new Promise<RuntimeAnswer>((resolve) => this.answers.set(requestId, resolve));
    const item = { requestId, event };
    const waiter = this.waiting.shift();
    if (waiter) waiter(item);
    else this.queue.push(item);
    return answered;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/**
 * Where AWS's runtime interface client is installed. It compiles native code on install (it needs
 * autoconf, automake and libtool), so it is not a workspace dependency: `.ci/run` installs it with npm
 * into a cache folder and names it in SLUICE_LAMBDA_RIC; a developer can do the same.
 */
export function runtimeClientDir(): string | undefined {
  const dir = process.env.SLUICE_LAMBDA_RIC;
  if (dir && existsSync(join(dir, "package.json"))) return dir;
  try {
    return dirname(createRequire(import.meta.url).resolve("aws-lambda-ric/package.json"));
  } catch {
    return undefined;
  }
}

/** Whether the runtime client's native part was built (a failed build leaves the package without it). */
export function runtimeClientBuilt(): boolean {
  const dir = runtimeClientDir();
  return dir !== undefined && (existsSync(join(dir, "dist", "rapid-client.node")) || existsSync(join(dir, "rapid-client.node")));
}

/**
 * Starts AWS's own runtime interface client (`aws-lambda-ric`, the code the Lambda Node.js runtime runs)
 * on a handler in `taskRoot`, talking to `api`.
 */
export function startRuntimeClient(taskRoot: string, handler: string, apiPort: number, env: Record<string, string>): ChildProcess {
  const root = runtimeClientDir();
  if (!root) throw new Error("aws-lambda-ric is not installed: set SLUICE_LAMBDA_RIC (see .ci/run)");
  const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { bin: Record<string, string> };
  const ric = join(root, manifest.bin["aws-lambda-ric"] as string);
  return spawn(process.execPath, [ric, handler], {
    cwd: taskRoot,
    env: {
      PATH: process.env.PATH ?? "",
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${apiPort}`,
      LAMBDA_TASK_ROOT: taskRoot,
      _HANDLER: handler,
      AWS_LAMBDA_FUNCTION_NAME: "analyze-sensors",
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "512",
      AWS_LAMBDA_LOG_GROUP_NAME: "/aws/lambda/analyze-sensors",
      AWS_LAMBDA_LOG_STREAM_NAME: "2026/11/23/[$LATEST]test",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
}
