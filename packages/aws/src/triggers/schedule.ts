import type { InvokeEvent, ScheduleEvent } from "@sluice/core";
import { FieldReader, nameFromArn } from "./fields.js";

/**
 * Translates an EventBridge (CloudWatch Events) `Scheduled Event`. `detail` is `{}` and `version` may be
 * missing (an old documented sample); `time` is the scheduled minute; the rule's name is only in
 * `resources[0]`, `arn:aws:events:<region>:<account>:rule/[<bus>/]<name>`.
 *
 * @example
 * ```ts
 * fromScheduledEvent(event).schedule; // "sluice-hourly-rollup"
 * ```
 */
export function fromScheduledEvent(event: unknown): ScheduleEvent {
  const root = FieldReader.of("schedule", event, "");
  const resources = root.array("resources");
  const rule = resources[0];
  if (typeof rule !== "string" || rule === "") throw root.fail("resources[0]", "must be the rule's ARN");
  return { kind: "schedule", id: root.string("id"), time: root.isoTime("time"), schedule: nameFromArn(rule), provider: "aws" };
}

/**
 * The input a Sluice deployment gives an EventBridge Scheduler target, which has no event format of its
 * own: Scheduler substitutes the `<aws.scheduler.*>` context attributes (EventBridge Scheduler User Guide,
 * "Adding context attributes") and Lambda receives exactly this object.
 *
 * @example
 * ```ts
 * const input: SchedulerInput = { sluice: "schedule", schedule: "hourly-rollup", scheduledTime: "2026-11-23T14:00:00Z", executionId: "e7b41c9d2f0a8k35" };
 * ```
 */
export interface SchedulerInput {
  sluice: "schedule";
  /** The schedule's name, written at deploy time: Scheduler has no keyword for it. */
  schedule: string;
  /** `<aws.scheduler.scheduled-time>`: the planned time, the same on every retry. */
  scheduledTime: string;
  /** `<aws.scheduler.execution-id>`: unique per attempt, so not an idempotency key. */
  executionId: string;
  /** `<aws.scheduler.schedule-arn>` */
  scheduleArn?: string;
  /** `<aws.scheduler.attempt-number>`, a string because it is substituted inside a JSON string. */
  attemptNumber?: string;
}

/**
 * The input template to configure on a Scheduler target for a Sluice `schedule` function.
 *
 * @example
 * ```ts
 * new CfnSchedule(this, "Hourly", { target: { arn, roleArn, input: JSON.stringify(schedulerInputTemplate("hourly-rollup")) } });
 * ```
 */
export function schedulerInputTemplate(schedule: string): SchedulerInput {
  return {
    sluice: "schedule",
    schedule,
    scheduledTime: "<aws.scheduler.scheduled-time>",
    executionId: "<aws.scheduler.execution-id>",
    scheduleArn: "<aws.scheduler.schedule-arn>",
    attemptNumber: "<aws.scheduler.attempt-number>",
  };
}

/**
 * Translates a Scheduler run with the Sluice input. The id is `schedule@scheduledTime`, stable across
 * retries; a value still holding `<aws.scheduler.` means the template itself was invoked (a pasted test) and
 * is rejected rather than read as a time.
 *
 * @example
 * ```ts
 * fromSchedulerInput({ sluice: "schedule", schedule: "hourly", scheduledTime: "2026-11-23T14:00:00Z", executionId: "e1" }).id;
 * // "hourly@2026-11-23T14:00:00.000Z"
 * ```
 */
export function fromSchedulerInput(event: unknown): ScheduleEvent {
  const root = FieldReader.of("scheduler", event, "");
  for (const [field, value] of Object.entries(root.record)) {
    if (typeof value === "string" && value.includes("<aws.scheduler.")) {
      throw root.fail(field, "still holds a Scheduler placeholder: the input template was invoked, not a substituted run");
    }
  }
  const schedule = root.string("schedule");
  const time = root.isoTime("scheduledTime");
  return { kind: "schedule", id: `${schedule}@${time}`, time, schedule, provider: "aws" };
}

/**
 * A direct invocation (`aws lambda invoke`, the SDK's Invoke): the payload passes through unchanged. It has
 * no metadata, so the id and time are the invocation's.
 *
 * @example
 * ```ts
 * fromInvoke({ day: "2026-11-23" }, context.awsRequestId, new Date().toISOString());
 * ```
 */
export function fromInvoke(payload: unknown, requestId: string, receivedAt: string): InvokeEvent {
  return { kind: "invoke", id: requestId, time: receivedAt, payload, provider: "aws" };
}
