import type { MessagesEventData } from "@sluice/core";
import { type TranslationEnv, lastPathSegment, optionalString, requireRecord } from "./fields.js";
import { type PubsubMessage, messageFromPubsub } from "./pubsub.js";

/**
 * The body of a Pub/Sub push request. `deliveryAttempt` is set only when the subscription has a
 * dead-letter policy; the framework's own conversion of a push body drops it (and `orderingKey`), which
 * is why push subscriptions are best served by a function registered as `http`.
 *
 * @see https://cloud.google.com/pubsub/docs/push#receive_push
 * @example
 * ```ts
 * const body = JSON.parse(requestBody) as PubsubPushBody;
 * body.deliveryAttempt; // 3, when the subscription has a dead-letter policy
 * ```
 */
export interface PubsubPushBody {
  message: PubsubMessage;
  subscription: string;
  deliveryAttempt?: number;
}

/**
 * Translates a push request body into a neutral batch of one message. A push body does not name its
 * topic, so `name` is the trigger's topic name (or the subscription's, without one).
 *
 * @example
 * ```ts
 * fromPubsubPush(JSON.parse(requestBody), env).messages[0].attempt; // 3
 * ```
 */
export function fromPubsubPush(body: unknown, env: TranslationEnv): MessagesEventData {
  const source = "pubsub-push";
  const push = requireRecord(body, source, "");
  const subscription = optionalString(push.subscription, source, "subscription");
  const message = messageFromPubsub(
    push.message,
    source,
    "message",
    { attempt: { value: push.deliveryAttempt, field: "deliveryAttempt" } },
    env,
  );
  return {
    kind: "messages",
    source: "topic",
    name: env.triggerName ?? lastPathSegment(subscription, "subscriptions") ?? "pubsub",
    messages: [message],
    provider: "gcp",
  };
}
