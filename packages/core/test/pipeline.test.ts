import { describe, expect, it } from "vitest";
import { ConfigurationError, definePipeline, defineFunction, destinations, isPipeline, triggers } from "../src/index.js";

const stage = (name: string, watch: { bucket: string; prefix?: string }, write?: { bucket: string; key: (key: string) => string }) =>
  defineFunction({
    name,
    trigger: triggers.objectCreated(watch),
    destination: write ? destinations.objectStore({ bucket: write.bucket, key: ({ event }) => write.key(event.key ?? "") }) : undefined,
    handler: () => ({}),
  });

describe("definePipeline", () => {
  it("accepts stages where each destination feeds the next trigger", () => {
    const pipeline = definePipeline([
      stage("analyse", { bucket: "raw", prefix: "in/" }, { bucket: "reports", key: (key) => `reports/${key}.json` }),
      stage("roll-up", { bucket: "reports", prefix: "reports/" }, { bucket: "reports", key: () => "rollups/all.json" }),
    ]);
    expect(isPipeline(pipeline)).toBe(true);
    expect(pipeline.stages.map((fn) => fn.name)).toEqual(["analyse", "roll-up"]);
    expect(pipeline.name).toBe("analyse+roll-up");
  });

  it("refuses a stage that does not feed the next, saying where it writes and what the next watches", () => {
    expect(() =>
      definePipeline([
        stage("analyse", { bucket: "raw" }, { bucket: "reports", key: (key) => `out/${key}` }),
        stage("roll-up", { bucket: "reports", prefix: "reports/" }),
      ]),
    ).toThrow(/analyse does not feed roll-up: it writes reports\/out\/.* and roll-up watches reports\/reports\/\*/);
  });

  it("refuses a loop across stages", () => {
    expect(() =>
      definePipeline([
        stage("a", { bucket: "one" }, { bucket: "two", key: (key) => key }),
        stage("b", { bucket: "two" }, { bucket: "one", key: (key) => `back/${key}` }),
      ]),
    ).toThrow(/pipeline loops: b writes where a watches/);
  });

  it("refuses an empty pipeline, a stage that is not a function, and two stages with one name", () => {
    expect(() => definePipeline([])).toThrow(ConfigurationError);
    expect(() => definePipeline([{} as never])).toThrow(ConfigurationError);
    const lone = stage("same", { bucket: "x" });
    expect(() => definePipeline([lone, lone])).toThrow(/two stages named same/);
  });
});
