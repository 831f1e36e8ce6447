/**
 * `node:crypto` on first use, not at import: importing it costs about 4 ms of a cold start (it pulls in
 * Node's stream code), and a local function that never writes or watches does not need it. Random ids
 * come from the global Web Crypto, which needs no import.
 */
let loading: Promise<typeof import("node:crypto")> | undefined;
let loaded: typeof import("node:crypto") | undefined;

export function loadNodeCrypto(): Promise<typeof import("node:crypto")> {
  loading ??= import("node:crypto").then((module) => {
    loaded = module;
    return module;
  });
  return loading;
}

/** The module once {@link loadNodeCrypto} has resolved; callers load it first on their async path. */
export function nodeCrypto(): typeof import("node:crypto") {
  if (!loaded) throw new Error("node:crypto used before loadNodeCrypto() resolved");
  return loaded;
}

/** A random UUID from the global Web Crypto (Node 19 and later), without importing node:crypto. */
export function randomId(): string {
  return globalThis.crypto.randomUUID();
}
