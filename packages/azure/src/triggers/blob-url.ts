import { type AzureSource, translationError } from "./fields.js";

/** A blob's place, read from its URL. */
export interface BlobLocation {
  account?: string;
  container: string;
  name: string;
}

const URL_PARTS = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]+)(\/[^?#]*)?/i;
const IP_OR_LOCAL_HOST = /^(?:\[[0-9a-f:.]+\]|\d{1,3}(?:\.\d{1,3}){3}|localhost|host\.docker\.internal)$/i;

/**
 * Splits a blob URL into account, container and blob name, percent-decoding each.
 *
 * The path is cut by hand rather than with `new URL()`: WHATWG URL parsing resolves `.` and `..` segments
 * and turns `\` into `/`, and both are legal in blob names. Emulators (Azurite) and IP endpoints put the
 * account in the first path segment instead of the host name; `@azure/storage-blob` tells them apart the
 * same way (an IP or `localhost` host, or one of the emulator ports 10000–10012).
 */
export function blobLocationFromUrl(url: unknown, source: AzureSource, field: string): BlobLocation {
  if (typeof url !== "string" || url === "") throw translationError(source, field, "must be the blob's URL");
  const match = URL_PARTS.exec(url);
  if (!match) throw translationError(source, field, `is not an absolute URL: ${JSON.stringify(url.slice(0, 80))}`);
  const authority = (match[2] as string).replace(/^[^@]*@/, "");
  const portMatch = /:(\d+)$/.exec(authority);
  const host = portMatch ? authority.slice(0, -portMatch[0].length) : authority;
  const port = portMatch ? Number(portMatch[1]) : undefined;
  const pathStyle = IP_OR_LOCAL_HOST.test(host) || (port !== undefined && port >= 10000 && port <= 10012);
  const segments = (match[3] ?? "").split("/").slice(1);
  let account: string | undefined;
  if (pathStyle) account = decodeSegment(segments.shift(), source, field);
  else account = host.split(".")[0] || undefined;
  const container = decodeSegment(segments.shift(), source, field);
  const name = segments.map((segment) => decodeSegment(segment, source, field, true)).join("/");
  if (!container) throw translationError(source, field, "has no container in its path");
  if (!name) throw translationError(source, field, "has no blob name in its path");
  const location: BlobLocation = { container, name };
  if (account) location.account = account;
  return location;
}

function decodeSegment(segment: string | undefined, source: AzureSource, field: string, allowEmpty = false): string {
  if (segment === undefined || (segment === "" && !allowEmpty)) return "";
  try {
    return decodeURIComponent(segment);
  } catch (cause) {
    throw translationError(source, field, `holds invalid percent-encoding in ${JSON.stringify(segment.slice(0, 80))}`, cause);
  }
}

/** An ETag without its surrounding quotes (and without a weak-validator prefix). */
export function unquoteEtag(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const bare = value.replace(/^W\//, "").replace(/^"(.*)"$/, "$1");
  return bare === "" ? undefined : bare;
}
