/** Profiles toLambda on the HTTP API v2 POST of the benchmark: `node --cpu-prof --import tsx src/profile-http.ts [ms]`. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSluice } from "./sluice-bundle.js";

const { defineFunction, triggers, toLambda, LocalObjectStore } = await loadSluice();
const root = fileURLToPath(new URL("../../", import.meta.url));
const event = JSON.parse(readFileSync(join(root, "packages/aws/test/fixtures/apigw-v2/http-api-post.json"), "utf8"));
const fn = defineFunction({
  name: "p",
  trigger: triggers.http({ path: "/items/{id}", methods: ["POST"] }),
  async handler(request) {
    return { status: 200, body: { id: request.params?.id, received: await request.json() } };
  },
});
const handler = toLambda(fn, { store: new LocalObjectStore({ root: mkdtempSync(join(tmpdir(), "sluice-prof-")) }) });
const context = { awsRequestId: "r", getRemainingTimeInMillis: () => 30_000 };
const ms = Number(process.argv[2] ?? 5000);
const end = Date.now() + ms;
let n = 0;
let last: unknown;
while (Date.now() < end) {
  last = await handler(event, context);
  n++;
}
console.log(`${n} invocations, ${((ms * 1e6) / n).toFixed(0)} ns each (${JSON.stringify(last).length})`);
