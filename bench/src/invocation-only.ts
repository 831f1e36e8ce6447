/**
 * Scenarios 1 and 2 alone, printed (no BENCHMARKS.md): for working on a hot path.
 * `tsx src/invocation-only.ts [filter]` runs the scenarios whose name contains `filter`.
 */
import { runInvocationBenchmarks } from "./invocation.js";

const filter = process.argv[2] ?? "";
const scenarios = await runInvocationBenchmarks({ sampleMs: 20, samples: 9, warmupMs: 300 }, filter);
for (const scenario of scenarios) {
  const raw = [...scenario.results.values()][0]?.median ?? Number.NaN;
  console.log(scenario.name);
  for (const [name, summary] of scenario.results) {
    console.log(`  ${name.padEnd(40)} ${(summary.median / 1000).toFixed(3).padStart(9)} µs  ${(summary.median / raw).toFixed(2)}×`);
  }
}
