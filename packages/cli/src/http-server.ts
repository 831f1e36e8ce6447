import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Outcome } from "@sluice/core";

/**
 * Serves an HTTP-triggered function on this machine: each request becomes a local event, and the
 * function's response is written back. Binds to loopback only.
 *
 * @example
 * ```ts
 * const { url, server } = await serveHttp((event) => local.invoke(event), { port: 0 });
 * ```
 */
export async function serveHttp(
  invoke: (event: unknown) => Promise<Outcome>,
  options: { port: number; host?: string; onRequest?: (method: string, path: string, status: number) => void },
): Promise<{ server: Server; url: string }> {
  const server = createServer(async (request, response) => {
    try {
      const url = new URL(request.url ?? "/", "http://localhost");
      const body = await readBody(request);
      const query: Record<string, string[]> = {};
      for (const [name, value] of url.searchParams) query[name] = [...(query[name] ?? []), value];
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
      }
      const outcome = await invoke({
        kind: "http",
        method: request.method ?? "GET",
        path: url.pathname,
        headers,
        query,
        body: body.length > 0 ? { base64: body.toString("base64") } : undefined,
      });
      if (outcome.status !== "http") throw new Error(`unexpected outcome ${outcome.status}`);
      const result = outcome.response;
      response.statusCode = result.status;
      for (const [name, value] of Object.entries(result.headers)) response.setHeader(name, value);
      if (result.cookies.length > 0) response.setHeader("set-cookie", result.cookies);
      response.end(typeof result.body === "string" ? result.body : Buffer.from(result.body));
      options.onRequest?.(request.method ?? "GET", url.pathname, result.status);
    } catch (error) {
      response.statusCode = 500;
      response.setHeader("content-type", "application/json");
      response.end(JSON.stringify({ error: error instanceof Error ? error.message : "Internal Server Error" }));
    }
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return { server, url: `http://${host}:${port}` };
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
