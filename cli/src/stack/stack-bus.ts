/**
 * The local stack's event bus: the LocalEventBus on `{dataDir}/bus.db` with
 * one push subscription per function, checked against the leases before it
 * opens (DESIGN.md §4: the retry horizon outlasts a lease).
 */
import path from 'node:path';
import type { Logger } from '@recdeploy/shared';
import { ROLLBACK_LEASE_MS, type ChainConfig } from '@recdeploy/shared/chain';
import {
  assertRetryHorizonOutlasts,
  LocalEventBus,
  type RetryPolicy,
} from '@recdeploy/shared/local';

/**
 * The longest a delivery can find a step or service leased by a holder that
 * died: a step lease (one lifetime, heartbeated), the service lease deploy
 * leaves for verify (one hand-off window, not renewed), or a rollback's.
 */
export function longestLeaseMs(config: ChainConfig): number {
  return Math.max(config.leases.ttlMs, config.leases.handOffWindowMs, ROLLBACK_LEASE_MS);
}

/**
 * Retry policy of the stack's push subscriptions. Its guaranteed horizon (the
 * shortest backoffs summed: 0.5 + 1 + 2 + 4 + 8 s, then 244 × 10 s ≈ 41 min)
 * outlasts twice the longest lease for the longest LEASE_TTL_S allowed (600 s,
 * so a 1200 s hand-off window), so a step whose holder died is always retried
 * after its lease lapsed; startBus checks it against the configured leases,
 * so a change here or there cannot break it unnoticed. The 10 s cap bounds
 * how late a delivery that waited on a lease comes back once it is free (a
 * crashed attempt's step is taken over at most 10 s after its lease lapses).
 */
export const LOCAL_PUSH_RETRY = {
  minBackoffMs: 500,
  maxBackoffMs: 10_000,
  maxDeliveryAttempts: 250,
} as const satisfies Omit<RetryPolicy, 'name'>;

/**
 * How much longer than the longest inline index build a push may take before
 * the bus stops waiting: loading the bundle, starting the revision and waiting
 * until it answers. With the default INDEX_BUILD_INLINE_MAX_S (240 s) the push
 * timeout is 540 s, the cloud deploy function's timeout.
 */
const PUSH_TIMEOUT_BEYOND_INLINE_BUILD_MS = 5 * 60_000;

export function startBus(
  config: ChainConfig,
  dataDir: string,
  urls: Readonly<Record<'register' | 'deploy' | 'verify', string>>,
  logger: Logger,
  /** The longest lease a delivery may wait on (longestLeaseMs). */
  maxLeaseMs: number,
): LocalEventBus {
  const topics = config.runtime.topics;
  const pushes: [string, string][] = [
    [topics.trainingCompleted, urls.register],
    [topics.modelRegistered, urls.deploy],
    [topics.modelDeployed, urls.verify],
  ];
  // The ack deadline is also the push request timeout. It no longer delays
  // crash recovery (a new bus redelivers at once what a dead stack had in
  // flight), so it only has to let the slowest handler answer: deploy, which
  // may build an index inline. Shorter, the bus would count a working attempt
  // as failed and push a duplicate that can only answer "step busy".
  const ackDeadlineMs =
    config.indexBuild.inlineMaxSeconds * 1000 + PUSH_TIMEOUT_BEYOND_INLINE_BUILD_MS;
  const subscriptions = pushes.map(([topic, pushEndpoint]) => ({
    // Same name every start: the endpoint is updated to this start's port and
    // messages still pending from the last run are delivered now.
    name: `${topic}-push`,
    topic,
    pushEndpoint,
    ackDeadlineMs,
    ...LOCAL_PUSH_RETRY,
  }));
  // DESIGN.md §4: the retry horizon outlasts a lease; checked before the bus opens.
  for (const subscription of subscriptions) {
    assertRetryHorizonOutlasts({ leaseMs: maxLeaseMs, subscription });
  }
  const bus = new LocalEventBus({
    file: path.join(dataDir, 'bus.db'),
    logger: logger.child({ port: 'bus' }),
  });
  for (const topic of [...pushes.map(([t]) => t), topics.deploymentFinished])
    bus.createTopic(topic);
  for (const subscription of subscriptions) bus.createSubscription(subscription);
  bus.start();
  return bus;
}
