/**
 * DESIGN.md §4 in the cloud: the retry horizon of each function's Eventarc
 * subscription outlasts a lease. A duplicate that finds a step still leased
 * answers non-2xx; if the holder died, Pub/Sub must still redeliver after the
 * lease lapsed instead of dead-lettering first. The retry policy is what
 * deploy/ puts on the subscription: the backoff in
 * deploy/scripts/configure-function-trigger.sh, the attempts from each
 * descriptor (the generated Cloud Build configs pass them to that script;
 * cloudbuild-configs.test.ts checks they are generated). The horizon is
 * computed with the same function the local stack checks at start-up (Pub/Sub
 * backoff assumed to double per failure; its docs give no formula), and so is
 * the longest lease (step lease, hand-off window, rollback: the chain's leases
 * are the same in the cloud).
 *
 * The reconcile function is the exception, and is checked as one: its ticks
 * (Cloud Scheduler, once a minute) never wait on a lease. A pass skips what
 * an attempt holds and the next tick looks again, and it acknowledges its
 * tick whatever it found; so its subscription keeps the fewest attempts, and
 * a tick that failed is not retried for long.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadRuntimeConfig } from '@recdeploy/shared';
import { ChainEnvSchema, loadChainConfig } from '@recdeploy/shared/chain';
import { assertRetryHorizonOutlasts, retryHorizonMs } from '@recdeploy/shared/local';
import { longestLeaseMs } from '../../../cli/src/stack/stack-bus.js';
import { FUNCTION_DEPLOYMENTS } from '../../../deploy/functions.js';

const script = readFileSync(
  fileURLToPath(new URL('../../../deploy/scripts/configure-function-trigger.sh', import.meta.url)),
  'utf8',
);

/** The `--min-retry-delay` / `--max-retry-delay` the script sets, in ms (gcloud durations in s). */
function retryDelayFlagMs(flag: string): number {
  const matches = [...script.matchAll(new RegExp(`--${flag}=(\\d+)s\\b`, 'g'))];
  assert.equal(matches.length, 1, `configure-function-trigger.sh sets --${flag} once`);
  return Number(matches[0]![1]) * 1000;
}

/** LEASE_TTL_S's largest accepted value: the invariant must hold for every configuration. */
const maxTtlS = ChainEnvSchema.properties.LEASE_TTL_S.maximum;

/** The topic Cloud Scheduler's ticks arrive on (deploy/setup.sh). */
const TICKS = loadRuntimeConfig({}).topics.reconcileTick;
/** How often a tick comes: setup.sh's Cloud Scheduler job runs every minute. */
const TICK_PERIOD_MS = 60_000;
const setupScript = readFileSync(
  fileURLToPath(new URL('../../../deploy/setup.sh', import.meta.url)),
  'utf8',
);

describe('Eventarc subscriptions: the retry horizon outlasts twice the longest lease', function () {
  const backoff = {
    minBackoffMs: retryDelayFlagMs('min-retry-delay'),
    maxBackoffMs: retryDelayFlagMs('max-retry-delay'),
  };

  it("deploy/ sets Pub/Sub's retry backoff explicitly (10 s → 600 s)", function () {
    assert.deepEqual(backoff, { minBackoffMs: 10_000, maxBackoffMs: 600_000 });
    assert.ok(maxTtlS !== undefined, 'LEASE_TTL_S has a maximum');
  });

  it('exempt the reconcile function only: the one triggered by ticks', function () {
    assert.deepEqual(
      FUNCTION_DEPLOYMENTS.filter((d) => d.triggerTopic === TICKS).map((d) => d.workspace),
      ['reconcile'],
    );
  });

  for (const d of FUNCTION_DEPLOYMENTS.filter((f) => f.triggerTopic === TICKS)) {
    it(`${d.name}: ${d.maxDeliveryAttempts} attempts, no lease to outlast`, function () {
      const subscription = { name: d.name, ...backoff, maxDeliveryAttempts: d.maxDeliveryAttempts };
      // Pub/Sub's fewest: a failed tick is dropped (dead-lettered) soon, while
      // newer ticks keep coming; retrying it would only add a pass.
      assert.equal(d.maxDeliveryAttempts, 5);
      assert.match(setupScript, /^readonly RECONCILE_SCHEDULE='\* \* \* \* \*'$/m, 'every minute');
      const horizonMs = retryHorizonMs(subscription);
      assert.equal(horizonMs, 150_000);
      const ticksMeanwhile = Math.ceil(horizonMs / TICK_PERIOD_MS);
      this.test!.title += ` span ${horizonMs / 1000} s (${ticksMeanwhile} newer ticks meanwhile)`;
    });
  }

  for (const d of FUNCTION_DEPLOYMENTS.filter((f) => f.triggerTopic !== TICKS)) {
    it(`${d.name}: ${d.maxDeliveryAttempts} attempts`, function () {
      const subscription = { name: d.name, ...backoff, maxDeliveryAttempts: d.maxDeliveryAttempts };
      const env = { ...d.env, GOOGLE_CLOUD_PROJECT: 'recs-project', REGION: 'europe-west1' };
      // As deployed, and with the longest lease lifetime the configuration accepts.
      const leases = [env, { ...env, LEASE_TTL_S: String(maxTtlS) }].map((e) =>
        longestLeaseMs(loadChainConfig(e)),
      );
      for (const leaseMs of leases) assertRetryHorizonOutlasts({ leaseMs, subscription });
      const longest = Math.max(...leases) / 1000;
      this.test!.title += ` span ${retryHorizonMs(subscription) / 1000} s > 2 × ${longest} s`;
    });
  }
});
