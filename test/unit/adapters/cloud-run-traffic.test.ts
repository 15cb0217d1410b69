import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  KEPT_TAGGED_REVISIONS,
  trafficForNewRevision,
} from '../../../shared/adapters/gcp/cloud-run-traffic.js';
import { LATEST, full, reconciled, rev, spec, status } from './cloud-run-traffic-fixtures.js';

// Services are shaped as Cloud Run returns them (cloud-run-traffic-fixtures.ts).

describe('traffic for a new revision', () => {
  it('gives the first revision of a new service all traffic (nothing else can serve)', () => {
    assert.deepEqual(trafficForNewRevision(undefined, spec), [rev('rec-shop-r7', 100, 'run-7')]);
  });

  it('gives it all traffic, without the failed revision, when the only revision failed', () => {
    // Cloud Run's answer after a failed create: the failed revision holds
    // 100% of the desired traffic, nothing is observed, nothing is ready.
    const current = {
      traffic: [rev('rec-shop-r6', 100, 'run-6')],
      trafficStatuses: [],
      latestReadyRevision: '',
      latestCreatedRevision: full('rec-shop-r6'),
    };
    assert.deepEqual(trafficForNewRevision(current, spec), [rev('rec-shop-r7', 100, 'run-7')]);
  });

  it('keeps what really serves when a failed revision was given its traffic', () => {
    // rec-shop-r6 failed after being given 100%: rec-shop-r5 still serves.
    const current = {
      traffic: [rev('rec-shop-r6', 100, 'run-6'), rev('rec-shop-r5', 0, 'run-5')],
      trafficStatuses: [status('rec-shop-r5', 100, 'run-5')],
      latestReadyRevision: full('rec-shop-r5'),
      latestCreatedRevision: full('rec-shop-r6'),
    };
    assert.deepEqual(trafficForNewRevision(current, spec), [
      rev('rec-shop-r5', 100, 'run-5'),
      rev('rec-shop-r7', 0, 'run-7'),
    ]);
  });

  it('drops a tagged 0% target that never became routable (a failed revision)', () => {
    const current = {
      traffic: [rev('rec-shop-r5', 100, 'run-5'), rev('rec-shop-r6', 0, 'run-6')],
      trafficStatuses: [status('rec-shop-r5', 100, 'run-5')],
      latestReadyRevision: full('rec-shop-r5'),
      latestCreatedRevision: full('rec-shop-r6'),
    };
    assert.deepEqual(trafficForNewRevision(current, spec), [
      rev('rec-shop-r5', 100, 'run-5'),
      rev('rec-shop-r7', 0, 'run-7'),
    ]);
  });

  it('keeps a routed tag only while the desired traffic still wants it (a discard removed it)', () => {
    // A discard of rec-shop-r4 was accepted but did not reconcile: its tag is
    // still observed, no longer desired.
    const current = {
      ...reconciled([rev('rec-shop-r5', 100, 'run-5')], 'rec-shop-r5'),
      trafficStatuses: [status('rec-shop-r5', 100, 'run-5'), status('rec-shop-r4', 0, 'run-4')],
    };
    assert.deepEqual(trafficForNewRevision(current, spec), [
      rev('rec-shop-r5', 100, 'run-5'),
      rev('rec-shop-r7', 0, 'run-7'),
    ]);
  });

  it('pins the implicit "latest" traffic to the concrete latest ready revision', () => {
    const current = {
      traffic: [],
      latestReadyRevision: full('rec-shop-r6'),
      trafficStatuses: [{ type: LATEST, revision: '', percent: 100, tag: '', uri: '' }],
    };
    assert.deepEqual(trafficForNewRevision(current, spec), [
      rev('rec-shop-r6', 100),
      rev('rec-shop-r7', 0, 'run-7'),
    ]);
  });

  it('pins an explicit LATEST target and keeps its tag', () => {
    const current = {
      traffic: [{ type: LATEST, revision: '', percent: 100, tag: 'live' }],
      latestReadyRevision: full('rec-shop-r6'),
      trafficStatuses: [{ type: LATEST, revision: '', percent: 100, tag: 'live', uri: 'u' }],
    };
    assert.deepEqual(trafficForNewRevision(current, spec), [
      rev('rec-shop-r6', 100, 'live'),
      rev('rec-shop-r7', 0, 'run-7'),
    ]);
  });

  it('keeps a split exactly as it is', () => {
    const current = reconciled(
      [rev('rec-shop-r5', 60, 'run-5'), rev('rec-shop-r6', 40)],
      'rec-shop-r6',
    );
    assert.deepEqual(trafficForNewRevision(current, spec), [
      rev('rec-shop-r5', 60, 'run-5'),
      rev('rec-shop-r6', 40),
      rev('rec-shop-r7', 0, 'run-7'),
    ]);
  });

  it(`keeps the newest ${KEPT_TAGGED_REVISIONS} tagged 0% targets and drops untagged ones`, () => {
    const zeroes = [1, 2, 3, 4, 5].map((n) => rev(`rec-shop-r${n}`, 0, `run-${n}`));
    const current = reconciled(
      [rev('rec-shop-r6', 100, 'run-6'), ...zeroes, rev('rec-shop-r0', 0)],
      'rec-shop-r6',
    );
    assert.deepEqual(trafficForNewRevision(current, spec), [
      rev('rec-shop-r6', 100, 'run-6'),
      rev('rec-shop-r3', 0, 'run-3'),
      rev('rec-shop-r4', 0, 'run-4'),
      rev('rec-shop-r5', 0, 'run-5'),
      rev('rec-shop-r7', 0, 'run-7'),
    ]);
  });

  it('replaces an earlier target carrying the same tag, so tags stay unique', () => {
    const current = reconciled(
      [rev('rec-shop-r6', 100, 'run-7'), rev('rec-shop-r5', 0, 'run-7x')],
      'rec-shop-r6',
    );
    assert.deepEqual(trafficForNewRevision(current, spec), [
      rev('rec-shop-r6', 100),
      rev('rec-shop-r5', 0, 'run-7x'),
      rev('rec-shop-r7', 0, 'run-7'),
    ]);
  });

  it('keeps what serves, totals 100, has unique tags and carries no unrouted revision', () => {
    const target = fc.record({
      revision: fc.constantFrom('r1', 'r2', 'r3', 'r4', 'r5', 'r6'),
      tag: fc.option(fc.constantFrom('a', 'b', 'c', 'd', 'run-7'), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.array(target, { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        (zeroTargets, weights, failedPromote) => {
          // What serves: targets with distinct tags that total 100, plus 0% ones.
          const total = weights.reduce((a, b) => a + b, 0);
          const percents = weights.map((w) => Math.floor((w * 100) / total));
          percents[0] = (percents[0] ?? 0) + 100 - percents.reduce((a, b) => a + b, 0);
          const serving = percents.map((p, i) => rev(`s${i}`, p, `live-${i}`));
          const seen = new Set<string>(serving.map((t) => t.tag ?? ''));
          const zero = zeroTargets.flatMap((t) => {
            if (t.tag !== undefined && seen.has(t.tag)) return [];
            if (t.tag !== undefined) seen.add(t.tag);
            return [rev(t.revision, 0, t.tag)];
          });
          const observed = [...serving, ...zero];
          // What was asked for may give all traffic to a revision that failed
          // (a promote that did not reconcile): Cloud Run never routed it.
          const traffic = failedPromote
            ? [rev('failed', 100, 'failed'), ...observed.map((t) => ({ ...t, percent: 0 }))]
            : observed;
          const current = {
            traffic,
            latestReadyRevision: full('s0'),
            trafficStatuses: observed.map((t) => status(t.revision, t.percent, t.tag)),
          };
          const planned = trafficForNewRevision(current, { revision: 'new', tag: 'run-7' });
          assert.equal(
            planned.reduce((sum, t) => sum + t.percent, 0),
            100,
          );
          assert.deepEqual(
            planned.filter((t) => t.revision === 'new'),
            [rev('new', 0, 'run-7')],
          );
          assert.deepEqual(
            planned.filter((t) => t.percent > 0).map((t) => [t.revision, t.percent]),
            serving.filter((t) => t.percent > 0).map((t) => [t.revision, t.percent]),
          );
          assert.ok(planned.every((t) => t.revision !== 'failed'));
          const tags = planned.flatMap((t) => (t.tag === undefined ? [] : [t.tag]));
          assert.equal(new Set(tags).size, tags.length);
          assert.ok(planned.filter((t) => t.percent === 0).length <= KEPT_TAGGED_REVISIONS + 1);
        },
      ),
    );
  });
});
