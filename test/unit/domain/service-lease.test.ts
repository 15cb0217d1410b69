import assert from 'node:assert/strict';
import {
  decideAcquireServiceLease,
  shouldReleaseServiceLease,
  type ServiceLease,
} from '@recdeploy/shared';
import { T0, at } from '../../fixtures/runs.js';

const held: ServiceLease = {
  service: 'recs-home',
  runId: 'run-a',
  acquiredAt: T0.toISOString(),
  expiresAt: at(60_000).toISOString(),
};

describe('service lease decisions', () => {
  it('a free service is taken', () => {
    const decision = decideAcquireServiceLease(
      undefined,
      { service: 'recs-home', runId: 'run-a', ttlMs: 60_000 },
      T0,
    );
    assert.deepEqual(decision.write, held);
    assert.deepEqual(decision.result, { acquired: true, expiresAt: held.expiresAt });
  });

  it('is re-entrant for its run: renewed to now + ttl, acquiredAt kept', () => {
    const decision = decideAcquireServiceLease(
      held,
      { service: 'recs-home', runId: 'run-a', ttlMs: 60_000 },
      at(30_000),
    );
    assert.deepEqual(decision.write, { ...held, expiresAt: at(90_000).toISOString() });
    assert.equal(decision.result.acquired, true);
  });

  it('refuses another run while unexpired, naming the holder, and writes nothing', () => {
    const decision = decideAcquireServiceLease(
      held,
      { service: 'recs-home', runId: 'run-b', ttlMs: 60_000 },
      at(59_999),
    );
    assert.deepEqual(decision.result, {
      acquired: false,
      holder: 'run-a',
      expiresAt: held.expiresAt,
    });
    assert.equal(decision.write, undefined);
  });

  it('lets another run take an expired lease (expiry instant included)', () => {
    const decision = decideAcquireServiceLease(
      held,
      { service: 'recs-home', runId: 'run-b', ttlMs: 1_000 },
      at(60_000),
    );
    assert.deepEqual(decision.write, {
      service: 'recs-home',
      runId: 'run-b',
      acquiredAt: at(60_000).toISOString(),
      expiresAt: at(61_000).toISOString(),
    });
  });

  it('is released only by its holder', () => {
    assert.equal(shouldReleaseServiceLease(held, 'run-a'), true);
    assert.equal(shouldReleaseServiceLease(held, 'run-b'), false);
    assert.equal(shouldReleaseServiceLease(undefined, 'run-a'), false);
  });
});
