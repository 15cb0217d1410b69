/**
 * The retry horizon of a push subscription (delivery-backoff.ts): the
 * guaranteed time from the first attempt until dead-lettering, the invariant
 * that it outlasts twice a lease (DESIGN.md §4), and that the local stack's
 * subscriptions keep it for every lease the configuration allows.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError } from '@recdeploy/shared';
import { ChainEnvSchema, loadChainConfig } from '@recdeploy/shared/chain';
import {
  assertRetryHorizonOutlasts,
  backoffFloorMs,
  retryDelayMs,
  retryHorizonMs,
} from '@recdeploy/shared/local';
import { LOCAL_PUSH_RETRY, longestLeaseMs } from '../../../cli/src/stack/stack-bus.js';

/** Pub/Sub's default RetryPolicy (pubsub.proto), with the functions' 15 attempts. */
const PUBSUB_15 = { minBackoffMs: 10_000, maxBackoffMs: 600_000, maxDeliveryAttempts: 15 };

describe('push subscription retry horizon', () => {
  it('doubles the backoff floor per failure up to the cap', () => {
    const floors = [1, 2, 3, 6, 7, 8, 100].map((n) => backoffFloorMs(PUBSUB_15, n));
    assert.deepEqual(floors, [10_000, 20_000, 40_000, 320_000, 600_000, 600_000, 600_000]);
  });

  it('sums the floors of the waits between the attempts', () => {
    // 10 + 20 + 40 + 80 + 160 + 320 s, then 8 × 600 s: the "about 1.5 h" of the descriptors.
    assert.equal(retryHorizonMs(PUBSUB_15), 5_430_000);
    assert.equal(retryHorizonMs({ ...PUBSUB_15, maxDeliveryAttempts: 1 }), 0, 'no retry, no wait');
    assert.equal(retryHorizonMs({ ...PUBSUB_15, maxDeliveryAttempts: 2 }), 10_000);
  });

  it('is a guarantee: the delays the bus really waits never add up to less', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), {
          minLength: 40,
          maxLength: 40,
        }),
        (minBackoffMs, extra, maxDeliveryAttempts, randoms) => {
          const policy = { minBackoffMs, maxBackoffMs: minBackoffMs + extra, maxDeliveryAttempts };
          let waited = 0;
          for (let failed = 1; failed < maxDeliveryAttempts; failed++) {
            const delay = retryDelayMs(policy, failed, () => randoms[failed] ?? 0);
            assert.ok(delay >= backoffFloorMs(policy, failed) && delay <= policy.maxBackoffMs);
            waited += delay;
          }
          assert.ok(waited >= retryHorizonMs(policy));
        },
      ),
    );
  });

  it('assertRetryHorizonOutlasts throws a ConfigError naming both numbers unless horizon > 2 × lease', () => {
    const subscription = { name: 'work-push', ...PUBSUB_15 };
    assert.doesNotThrow(() => assertRetryHorizonOutlasts({ leaseMs: 2_714_999, subscription }));
    for (const leaseMs of [2_715_000, 3_000_000]) {
      assert.throws(
        () => assertRetryHorizonOutlasts({ leaseMs, subscription }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.code === 'CONFIG.INVALID' &&
          error.message.includes('work-push') &&
          error.message.includes('5430000 ms') &&
          error.message.includes(`${leaseMs} ms`),
      );
    }
  });

  it('the local stack keeps it for every LEASE_TTL_S the configuration allows', () => {
    const maxTtlS = ChainEnvSchema.properties.LEASE_TTL_S.maximum;
    assert.ok(maxTtlS !== undefined, 'LEASE_TTL_S has a maximum');
    const local = (ttlS?: number) =>
      loadChainConfig({
        RECDEPLOY_BACKEND: 'local',
        RECDEPLOY_DATA_DIR: '/tmp/recdeploy-horizon',
        ...(ttlS === undefined ? {} : { LEASE_TTL_S: String(ttlS) }),
      });
    for (const config of [local(), local(maxTtlS)]) {
      const leaseMs = longestLeaseMs(config);
      assert.ok(leaseMs >= config.leases.ttlMs && leaseMs >= config.leases.handOffWindowMs);
      assertRetryHorizonOutlasts({ leaseMs, subscription: LOCAL_PUSH_RETRY });
    }
    // 0.5 + 1 + 2 + 4 + 8 s, then 244 × 10 s (249 waits between 250 attempts); vs 2 × 1200 s at the longest TTL.
    assert.equal(retryHorizonMs(LOCAL_PUSH_RETRY), 2_455_500);
    assert.equal(longestLeaseMs(local(maxTtlS)), 1_200_000);
  });
});
