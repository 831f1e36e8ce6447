import type { ScheduleEvent } from "@sluice/core";
import { type Fields, describeValue, isRecord, translationError } from "./fields.js";

/** Whether an input is the timer trigger's `Timer`: only it has a boolean `isPastDue`. */
export function isTimerInput(input: unknown): input is Fields {
  return isRecord(input) && typeof input.isPastDue === "boolean" && "schedule" in input;
}

/**
 * The timer trigger's `Timer` to a neutral schedule event. Azure gives no fire time for the current
 * run (`scheduleStatus` holds the previous and the next one, and may be `null`), so the time is the
 * invocation's; the schedule's name is the function's.
 *
 * @see https://learn.microsoft.com/azure/azure-functions/functions-bindings-timer#usage
 */
export function fromTimer(input: unknown, invocation: { invocationId: string; functionName: string; now: string }): ScheduleEvent {
  if (!isTimerInput(input)) throw translationError("timer", "isPastDue", `must be a boolean, got ${describeValue(input)}`);
  return { kind: "schedule", id: invocation.invocationId, time: invocation.now, schedule: invocation.functionName, provider: "azure" };
}
