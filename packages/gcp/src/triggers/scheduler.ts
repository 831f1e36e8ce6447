import type { ScheduleEvent } from "@sluice/core";
import { type TranslationEnv, idString, lastPathSegment, optionalTime, requireRecord, requireString, translationError } from "./fields.js";
import type { GcpHttpRequest } from "./http.js";
import { headerValue } from "./http.js";
import { MESSAGE_PUBLISHED_TYPE } from "./pubsub.js";

/**
 * Attributes a Cloud Scheduler job with a Pub/Sub target should set so that its messages can be told
 * from others: Cloud Scheduler adds none of its own, the job's attributes are all there is.
 */
export const SCHEDULER_ATTRIBUTES = { trigger: "sluice-trigger", job: "sluice-job" } as const;

function fromScheduleMessage(
  value: unknown,
  field: string,
  fallbacks: { id?: string; time?: string; topic?: string },
  env: TranslationEnv,
): ScheduleEvent {
  const source = "scheduler";
  const message = requireRecord(value, source, field);
  const attributes =
    message.attributes === null || message.attributes === undefined ? {} : requireRecord(message.attributes, source, `${field}.attributes`);
  const id =
    idString(message.messageId, source, `${field}.messageId`) ??
    idString(message.message_id, source, `${field}.message_id`) ??
    fallbacks.id;
  const job = attributes[SCHEDULER_ATTRIBUTES.job];
  return {
    kind: "schedule",
    id: requireString(id, source, `${field}.messageId`),
    // A Pub/Sub target carries no schedule time: the publish time is the closest the cloud gives.
    time:
      optionalTime(message.publishTime, source, `${field}.publishTime`) ??
      optionalTime(message.publish_time, source, `${field}.publish_time`) ??
      fallbacks.time ??
      env.now(),
    schedule: (typeof job === "string" && job !== "" ? job : undefined) ?? fallbacks.topic ?? env.triggerName ?? "schedule",
    provider: "gcp",
  };
}

/**
 * A Cloud Scheduler job with a Pub/Sub target, delivered as `messagePublished`. The schedule's name is
 * the job's `sluice-job` attribute, else the topic.
 *
 * @example
 * ```ts
 * fromSchedulerCloudEvent(cloudEvent, env); // { kind: "schedule", id, time, schedule: "compact-readings-hourly", provider: "gcp" }
 * ```
 */
export function fromSchedulerCloudEvent(event: unknown, env: TranslationEnv): ScheduleEvent {
  const source = "scheduler";
  const ce = requireRecord(event, source, "");
  if (ce.type !== MESSAGE_PUBLISHED_TYPE)
    throw translationError(source, "type", `expected ${MESSAGE_PUBLISHED_TYPE}, got ${String(ce.type)}`);
  const data = requireRecord(ce.data, source, "data");
  const topic = lastPathSegment(typeof ce.source === "string" ? ce.source : undefined, "topics");
  return fromScheduleMessage(
    data.message,
    "data.message",
    { id: idString(ce.id, source, "id"), time: optionalTime(ce.time, source, "time"), topic },
    env,
  );
}

/**
 * A Cloud Scheduler job with a Pub/Sub target whose subscription pushes to a function registered as `http`.
 *
 * @example
 * ```ts
 * fromSchedulerPush(JSON.parse(requestBody), env).schedule; // "compact-readings-hourly"
 * ```
 */
export function fromSchedulerPush(body: unknown, env: TranslationEnv): ScheduleEvent {
  const push = requireRecord(body, "scheduler", "");
  return fromScheduleMessage(push.message, "message", {}, env);
}

/**
 * A Cloud Scheduler HTTP-target request. The job name and the scheduled time (RFC 3339 with the job's
 * UTC offset) are headers; the id is the job and its scheduled time, which a retry of the same firing
 * keeps, so a redelivered firing has the same id.
 *
 * @see https://cloud.google.com/scheduler/docs/reference/rest/v1/projects.locations.jobs#HttpTarget
 * @example
 * ```ts
 * fromSchedulerRequest(request, env).time; // "2026-11-23T14:00:00.000Z" from "2026-11-23T15:00:00+01:00"
 * ```
 */
export function fromSchedulerRequest(request: GcpHttpRequest, env: TranslationEnv): ScheduleEvent {
  const source = "scheduler";
  if (headerValue(request.headers, "x-cloudscheduler") !== "true") {
    throw translationError(source, "headers.x-cloudscheduler", "not a Cloud Scheduler request");
  }
  const job = headerValue(request.headers, "x-cloudscheduler-jobname");
  const scheduled = optionalTime(
    headerValue(request.headers, "x-cloudscheduler-scheduletime"),
    source,
    "headers.x-cloudscheduler-scheduletime",
  );
  const schedule = job ?? env.triggerName ?? "schedule";
  return {
    kind: "schedule",
    id: scheduled ? `${schedule}@${scheduled}` : env.newId(),
    time: scheduled ?? env.now(),
    schedule,
    provider: "gcp",
  };
}
