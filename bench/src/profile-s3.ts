/** Profiles toLambda on an S3 event of 100 records: `node --cpu-prof --import tsx src/profile-s3.ts [ms] [records]`. */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadSluice } from "./sluice-bundle.js";

const { defineFunction, triggers, toLambda, LocalObjectStore } = await loadSluice();
const root = fileURLToPath(new URL("../../", import.meta.url));
const one = JSON.parse(readFileSync(join(root, "packages/aws/test/fixtures/s3/object-created-encoded-key.json"), "utf8"));
const record = one.Records[0];
const event = {
  Records: Array.from({ length: Number(process.argv[3] ?? 100) }, (_u, i) => ({
    ...record,
    s3: { ...record.s3, object: { ...record.s3.object, key: `k%20${i}` } },
  })),
};
let total = 0;
const fn = defineFunction({
  name: "p",
  trigger: triggers.objectCreated({ bucket: "sensor-raw" }),
  async handler(e) {
    total += e.size ?? 0;
  },
});
const handler = toLambda(fn, { store: new LocalObjectStore({ root: mkdtempSync(join(tmpdir(), "sluice-prof-")) }) });
const context = { awsRequestId: "r", getRemainingTimeInMillis: () => 30_000 };
const end = Date.now() + Number(process.argv[2] ?? 5000);
let n = 0;
while (Date.now() < end) {
  await handler(event, context);
  n++;
}
console.log(`${n} invocations, ${((Number(process.argv[2] ?? 5000) * 1e6) / n).toFixed(0)} ns each (${total})`);
