import { ConfigError } from '../../errors.js';
import type { SubscriptionSettings } from './local-event-bus-topology.js';

/** A push subscription to create; omitted settings take Pub/Sub's defaults. */
export interface PushSubscriptionOptions {
  readonly name: string;
  readonly topic: string;
  /** Where deliveries are POSTed (a function's URL). */
  readonly pushEndpoint: string;
  /** Attempts before a delivery is dead-lettered. Default 5 (Pub/Sub's). */
  readonly maxDeliveryAttempts?: number;
  /** Retry backoff floor. Default 10 s (Pub/Sub's `minimum_backoff`). */
  readonly minBackoffMs?: number;
  /** Retry backoff cap. Default 600 s (Pub/Sub's `maximum_backoff`). */
  readonly maxBackoffMs?: number;
  /** Also the HTTP request timeout, as for Pub/Sub push. Default 10 s. */
  readonly ackDeadlineMs?: number;
  /** Topic (existing) that receives a copy of every dead-lettered message. */
  readonly deadLetterTopic?: string;
  /** Deliver same-key messages one at a time, in publish order. Default false. */
  readonly enableMessageOrdering?: boolean;
}

/** Pub/Sub's defaults for push subscriptions, in milliseconds. */
export const PUSH_SUBSCRIPTION_DEFAULTS = {
  maxDeliveryAttempts: 5,
  minBackoffMs: 10_000,
  maxBackoffMs: 600_000,
  ackDeadlineMs: 10_000,
} as const;

/** Pub/Sub's resource id rule, so names that work here also work in the cloud. */
const RESOURCE_ID = /^(?!goog)[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/;

/** Lists what is wrong with a topic or subscription id (empty when valid). */
export function resourceIdProblems(kind: string, name: string): string[] {
  return RESOURCE_ID.test(name)
    ? []
    : [`${kind} "${name}" must be 3-255 letters, digits or -_.~+% starting with a letter`];
}

function isHttpUrl(text: string): boolean {
  try {
    const { protocol } = new URL(text);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** Applies the defaults and checks every setting, reporting all problems at once. */
export function resolveSubscription(options: PushSubscriptionOptions): SubscriptionSettings {
  const defaults = PUSH_SUBSCRIPTION_DEFAULTS;
  const settings: SubscriptionSettings = {
    name: options.name,
    topic: options.topic,
    pushEndpoint: options.pushEndpoint,
    maxDeliveryAttempts: options.maxDeliveryAttempts ?? defaults.maxDeliveryAttempts,
    minBackoffMs: options.minBackoffMs ?? defaults.minBackoffMs,
    maxBackoffMs: options.maxBackoffMs ?? defaults.maxBackoffMs,
    ackDeadlineMs: options.ackDeadlineMs ?? defaults.ackDeadlineMs,
    deadLetterTopic: options.deadLetterTopic ?? null,
    enableMessageOrdering: options.enableMessageOrdering ?? false,
  };
  const problems = [
    ...resourceIdProblems('subscription', settings.name),
    ...resourceIdProblems('topic', settings.topic),
  ];
  if (!isHttpUrl(settings.pushEndpoint)) problems.push('pushEndpoint must be an http(s) URL');
  const atLeast = (field: keyof typeof PUSH_SUBSCRIPTION_DEFAULTS, min: number) => {
    const value = settings[field];
    if (!Number.isInteger(value) || value < min)
      problems.push(`${field} must be an integer ≥ ${min}`);
  };
  atLeast('maxDeliveryAttempts', 1);
  atLeast('minBackoffMs', 0);
  atLeast('maxBackoffMs', settings.minBackoffMs);
  atLeast('ackDeadlineMs', 1);
  if (problems.length > 0) throw new ConfigError(problems);
  return settings;
}
