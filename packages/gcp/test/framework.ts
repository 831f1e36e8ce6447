import type { AddressInfo } from "node:net";
import { getTestServer } from "@google-cloud/functions-framework/testing";
import type { Logger } from "@sluice/core";

/** How a test sends something to a function, the way the platform would. */
export type Delivery =
  /** A CloudEvent over HTTP: binary mode (ce-* headers, data as the body) or structured mode (the whole event as JSON). */
  | { kind: "cloudevent"; mode: "binary" | "structured"; event: Record<string, unknown> }
  /** Any other request: a 1st gen event or raw push body POSTed as JSON, a Scheduler HTTP target, a plain HTTP call. */
  | { kind: "request"; method: string; path: string; headers?: Record<string, string>; body?: string | Uint8Array };

export interface DeliveryResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The body's exact bytes. */
  bytes: Uint8Array;
  /** Each Set-Cookie header. */
  cookies: string[];
}

/** A POST of JSON: how 1st gen events and push bodies reach a function. */
export const postJson = (body: unknown, path = "/"): Delivery => ({
  kind: "request",
  method: "POST",
  path,
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

/**
 * Header values must be ASCII (the CloudEvents HTTP binding percent-encodes the rest); the framework
 * does not decode them, which is why translators never read the key from `subject`.
 */
const headerSafe = (value: string) => value.replace(/[^\x20-\x7e]|%/gu, (char) => encodeURIComponent(char));

function requestFor(delivery: Delivery): { path: string; init: RequestInit } {
  if (delivery.kind === "request") {
    const init: RequestInit = { method: delivery.method, headers: delivery.headers ?? {} };
    if (delivery.body !== undefined) init.body = delivery.body as NonNullable<RequestInit["body"]>;
    return { path: delivery.path, init };
  }
  const { data, ...attributes } = delivery.event;
  if (delivery.mode === "structured") {
    return {
      path: "/",
      init: { method: "POST", headers: { "content-type": "application/cloudevents+json" }, body: JSON.stringify(delivery.event) },
    };
  }
  const headers: Record<string, string> = { "content-type": "application/json" };
  for (const [name, value] of Object.entries(attributes)) {
    // Eventarc sends no ce-datacontenttype; the content type is the body's.
    if (name !== "datacontenttype" && value !== undefined) headers[`ce-${name}`] = headerSafe(String(value));
  }
  return { path: "/", init: { method: "POST", headers, body: JSON.stringify(data) } };
}

/**
 * Express reads NODE_ENV once, when the framework creates its app: with "production" its error pages
 * (e.g. the framework's own 400 for a JSON body that does not parse) carry no stack trace.
 */
function asProduction<T>(create: () => T): T {
  const saved = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  try {
    return create();
  } finally {
    if (saved === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = saved;
  }
}

/**
 * Serves the function registered under `name` with the framework's own test server on 127.0.0.1 and
 * sends one delivery through real HTTP. Never the framework's CLI: it binds every interface.
 */
export async function deliver(name: string, delivery: Delivery, options: { production?: boolean } = {}): Promise<DeliveryResponse> {
  const server = options.production ? asProduction(() => getTestServer(name)) : getTestServer(name);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  try {
    const { port } = server.address() as AddressInfo;
    const { path, init } = requestFor(delivery);
    const response = await fetch(`http://127.0.0.1:${port}${path}`, init);
    const headers: Record<string, string> = {};
    response.headers.forEach((value, header) => {
      headers[header] = value;
    });
    const bytes = new Uint8Array(await response.arrayBuffer());
    return { status: response.status, headers, body: new TextDecoder().decode(bytes), bytes, cookies: response.headers.getSetCookie() };
  } finally {
    server.closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A logger that keeps the errors it is given (the adapter logs the error object it throws) and prints nothing. */
export function capturingLogger(): {
  log: Logger;
  errors: unknown[];
  lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }>;
} {
  const errors: unknown[] = [];
  const lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  const make = (base: Record<string, unknown>): Logger => {
    const record = (level: string) => (message: string, fields?: Record<string, unknown>) => {
      lines.push({ level, message, fields: { ...base, ...fields } });
      if (fields?.error !== undefined) errors.push(fields.error);
    };
    return {
      debug: record("debug"),
      info: record("info"),
      warn: record("warn"),
      error: record("error"),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return { log: make({}), errors, lines };
}
