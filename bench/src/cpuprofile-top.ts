/** Prints the top self-time frames of a .cpuprofile: `tsx src/cpuprofile-top.ts file [n]`. */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
export function topFrames(file: string, count = 15): Array<{ frame: string; share: number }> {
  const profile = JSON.parse(readFileSync(file, "utf8")) as { nodes: Node[]; samples: number[] };
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const byFrame = new Map<string, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${url.replace(/^.*\/(packages|node_modules)\//, "$1/").replace(/^file:\/\//, "")}:${lineNumber + 1}` : "";
    const frame = `${functionName || "(anonymous)"} ${where}`.trim();
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + (hits.get(node.id) ?? 0));
  }
  const total = profile.samples.length;
  return [...byFrame]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([frame, n]) => ({ frame, share: n / total }));
}
if (process.argv[1]?.includes("cpuprofile-top")) {
  for (const { frame, share } of topFrames(process.argv[2] as string, Number(process.argv[3] ?? 15)))
    console.log(`${(share * 100).toFixed(1)}%  ${frame}`);
}
