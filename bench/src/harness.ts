/** A small benchmark harness: warm-up, interleaved samples, medians with quartiles. Benchmarks print; they do not assert. */

export interface Summary {
  median: number;
  p25: number;
  p75: number;
  samples: number;
}

export function summarise(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => {
    if (sorted.length === 0) return Number.NaN;
    const position = (sorted.length - 1) * q;
    const low = Math.floor(position);
    const high = Math.ceil(position);
    return (sorted[low] as number) + ((sorted[high] as number) - (sorted[low] as number)) * (position - low);
  };
  return { median: at(0.5), p25: at(0.25), p75: at(0.75), samples: sorted.length };
}

export interface Candidate {
  name: string;
  /** One invocation. Awaited. */
  run: () => unknown | Promise<unknown>;
}

export interface InvocationOptions {
  /** Target time of one sample, in ms. */
  sampleMs: number;
  samples: number;
  warmupMs: number;
}

/** Keeps results alive so the optimiser cannot drop the work. */
export let sink: unknown;

async function loop(run: Candidate["run"], iterations: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) sink = await run();
  return Number(process.hrtime.bigint() - start);
}

/**
 * Measures nanoseconds per invocation of every candidate. Samples are interleaved (candidate order rotates
 * every round) so that load from other work on the machine spreads over all candidates alike.
 */
export async function measureInvocations(candidates: Candidate[], options: InvocationOptions): Promise<Map<string, Summary>> {
  const iterations = new Map<string, number>();
  for (const candidate of candidates) {
    // Warm-up, and calibration: how many iterations fill one sample.
    let n = 16;
    const warmupEnd = performance.now() + options.warmupMs;
    let perIteration = Number.POSITIVE_INFINITY;
    let rounds = 0;
    do {
      const ns = await loop(candidate.run, n);
      perIteration = ns / n;
      rounds++;
      if (ns < 2_000_000) n *= 2;
    } while (performance.now() < warmupEnd || rounds < 3);
    iterations.set(candidate.name, Math.max(16, Math.round((options.sampleMs * 1e6) / perIteration)));
  }
  const perOp = new Map<string, number[]>(candidates.map((c) => [c.name, []]));
  for (let round = 0; round < options.samples; round++) {
    for (let k = 0; k < candidates.length; k++) {
      const candidate = candidates[(round + k) % candidates.length] as Candidate;
      const n = iterations.get(candidate.name) as number;
      perOp.get(candidate.name)?.push((await loop(candidate.run, n)) / n);
    }
  }
  return new Map([...perOp].map(([name, values]) => [name, summarise(values)]));
}

export const fmtNs = (ns: number) =>
  ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`;
export const ratio = (value: number, base: number) => `${(value / base).toFixed(2)}×`;
