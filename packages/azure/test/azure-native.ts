import { randomUUID } from "node:crypto";
import { HttpRequest, HttpResponse, InvocationContext } from "@azure/functions";
import type { ContractInvocation } from "@sluice/core/testing";

/** What one Azure invocation gets: the handler's first argument and the context's trigger metadata. */
export interface NativeCall {
  input: unknown;
  triggerMetadata?: Record<string, unknown>;
}

/** Any handler `toAzureFunction` returns, whatever its trigger-specific input type. */
type AnyHandler = (input: never, context: InvocationContext) => Promise<unknown>;

/** Calls a handler the way the worker does, with a real `InvocationContext` (and any input, as the worker may). */
export function callHandler(handler: AnyHandler, call: NativeCall, functionName = "under-test"): Promise<unknown> {
  const context = new InvocationContext({ invocationId: randomUUID(), functionName, triggerMetadata: call.triggerMetadata });
  return (handler as (input: unknown, context: InvocationContext) => Promise<unknown>)(call.input, context);
}

/** The library's own treatment of string binding data: JSON-looking strings are parsed. */
export function asLibraryParses(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Encodes a blob name into a URL path the way Azure does: each segment percent-encoded. */
export function blobUrl(account: string, container: string, name: string): string {
  return `https://${account}.blob.core.windows.net/${container}/${name.split("/").map(encodeURIComponent).join("/")}`;
}

/** An Event Grid blob event as `app.eventGrid` hands it over (a seven-digit time, as Azure writes it). */
export function eventGridBlobEvent(
  type: "Microsoft.Storage.BlobCreated" | "Microsoft.Storage.BlobDeleted",
  object: { url: string; container: string; name: string; size?: number; etag?: string; contentType?: string },
): NativeCall {
  const data: Record<string, unknown> = {
    api: type === "Microsoft.Storage.BlobCreated" ? "PutBlob" : "DeleteBlob",
    requestId: randomUUID(),
    contentType: object.contentType ?? "application/x-ndjson",
    blobType: "BlockBlob",
    url: object.url,
    sequencer: "0000000000000000000000000001a2f300000000004c9d18",
  };
  if (object.size !== undefined) data.contentLength = object.size;
  if (object.etag !== undefined) data.eTag = object.etag;
  return {
    input: {
      topic:
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/sluice/providers/Microsoft.Storage/storageAccounts/sluicecontract",
      subject: `/blobServices/default/containers/${object.container}/blobs/${object.name}`,
      eventType: type,
      eventTime: "2026-11-23T14:05:01.4619537Z",
      id: randomUUID(),
      data,
      dataVersion: "",
      metadataVersion: "1",
    },
    triggerMetadata: { data },
  };
}

/** Reads the handler's answer as the platform would: a throw is a failed invocation; an HTTP answer is a response. */
export async function platformAnswer(run: () => Promise<unknown>, http: boolean): Promise<ContractInvocation> {
  let value: unknown;
  try {
    value = await run();
  } catch (error) {
    return { ok: false, error };
  }
  if (!http) return { ok: true };
  const response = new HttpResponse(value as ConstructorParameters<typeof HttpResponse>[0]);
  const headers: Record<string, string> = {};
  response.headers.forEach((headerValue, name) => {
    headers[name] = headerValue;
  });
  return { ok: response.status < 500, http: { status: response.status, headers, body: await response.text() } };
}

export { HttpRequest };
