import { ConfigurationError } from "./errors.js";
import { isSluiceFunction, sendsTo, type SluiceFunction } from "./function.js";
import type { Trigger } from "./triggers.js";

/** Functions that feed one another, checked as a whole. */
export interface Pipeline {
  readonly __sluice: "pipeline";
  readonly name: string;
  readonly stages: readonly SluiceFunction[];
}

/** Where a stage's destination writes, as far as a sample event shows. */
function sampleOutput(stage: SluiceFunction): { bucket: string; key: string } | undefined {
  const destination = stage.destination;
  if (destination?.kind !== "objectStore") return undefined;
  const trigger = stage.trigger as Trigger;
  const isObject = trigger.kind === "object.created" || trigger.kind === "object.deleted";
  const key = isObject ? `${trigger.prefix ?? ""}sluice-pipeline-probe${trigger.suffix ?? ""}` : "sluice-pipeline-probe";
  const event = {
    kind: trigger.kind,
    id: "probe",
    time: new Date(0).toISOString(),
    bucket: isObject ? trigger.bucket : "probe",
    key,
    provider: "local",
  };
  try {
    const output = (destination.key as (args: unknown) => unknown)({ event, result: {}, failures: [] });
    return typeof output === "string" ? { bucket: destination.bucket, key: output } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `from`'s output starts `to`. */
function feeds(from: SluiceFunction, to: SluiceFunction): boolean {
  const trigger = to.trigger as Trigger;
  const destination = from.destination;
  if (destination?.kind === "stream" || destination?.kind === "queue") return sendsTo(destination, trigger);
  if (trigger.kind !== "object.created") return false;
  const output = sampleOutput(from);
  return (
    output !== undefined &&
    output.bucket === trigger.bucket &&
    output.key.startsWith(trigger.prefix ?? "") &&
    output.key.endsWith(trigger.suffix ?? "")
  );
}

/**
 * Defines a multi-stage pipeline: each stage's destination must feed the next stage's trigger (bucket and
 * prefix, or stream, queue or topic name), and no stage may feed an earlier one or itself — the cross-function form of the recursion
 * guard. Both are checked here, when the pipeline is defined, with `ConfigurationError`.
 *
 * @example
 * ```ts
 * export const sensors = definePipeline([analyzeSensors, rollUpHourly], { name: "sensors" });
 * ```
 */
export function definePipeline(stages: readonly SluiceFunction[], options: { name?: string } = {}): Pipeline {
  if (!Array.isArray(stages) || stages.length === 0) throw new ConfigurationError("definePipeline needs at least one stage");
  for (const [index, stage] of stages.entries()) {
    if (!isSluiceFunction(stage)) throw new ConfigurationError(`pipeline stage ${index + 1} is not a function made by defineFunction`);
  }
  const names = new Set<string>();
  for (const stage of stages) {
    if (names.has(stage.name)) throw new ConfigurationError(`pipeline has two stages named ${stage.name}`);
    names.add(stage.name);
  }
  for (let index = 0; index + 1 < stages.length; index++) {
    const from = stages[index] as SluiceFunction;
    const to = stages[index + 1] as SluiceFunction;
    if (!feeds(from, to)) {
      const output = sampleOutput(from);
      const trigger = to.trigger as Trigger;
      const watches =
        trigger.kind === "object.created"
          ? `${trigger.bucket}/${trigger.prefix ?? ""}*${trigger.suffix ?? ""}`
          : trigger.kind === "messages"
            ? `${trigger.source} ${trigger.name}`
            : `a ${trigger.kind} trigger`;
      const destination = from.destination;
      const writes =
        destination?.kind === "stream" || destination?.kind === "queue"
          ? `sends to ${destination.kind} ${destination.name}`
          : `writes ${output ? `${output.bucket}/${output.key}` : "nothing an object trigger can see"}`;
      throw new ConfigurationError(`pipeline stage ${from.name} does not feed ${to.name}: it ${writes}, and ${to.name} watches ${watches}`);
    }
  }
  // A stage that feeds an earlier stage (or itself) closes a loop across functions.
  for (const [late, from] of stages.entries()) {
    for (const [early, to] of stages.entries()) {
      if (early <= late && feeds(from, to) && !(early === late && from.allowRecursion)) {
        throw new ConfigurationError(`pipeline loops: ${from.name} writes where ${to.name} watches, which runs ${from.name} again`);
      }
    }
  }
  return Object.freeze({
    __sluice: "pipeline" as const,
    name: options.name ?? stages.map((stage) => stage.name).join("+"),
    stages: Object.freeze([...stages]),
  });
}

/**
 * Whether a value is a pipeline made by {@link definePipeline}.
 *
 * @example
 * ```ts
 * if (isPipeline(value)) for (const stage of value.stages) console.log(stage.name);
 * ```
 */
export function isPipeline(value: unknown): value is Pipeline {
  return typeof value === "object" && value !== null && (value as { __sluice?: unknown }).__sluice === "pipeline";
}
