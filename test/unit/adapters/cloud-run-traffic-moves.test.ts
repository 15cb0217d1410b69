import assert from 'node:assert/strict';
import {
  PREVIOUS_REVISION_ANNOTATION,
  currentLiveRevision,
  hasTaggedTarget,
  holdsAllTraffic,
  readServiceTraffic,
  shortRevisionName,
  trafficForPromote,
  trafficWithout,
} from '../../../shared/adapters/gcp/cloud-run-traffic.js';
import { LATEST, SERVICE, full, reconciled, rev, status } from './cloud-run-traffic-fixtures.js';

// Promote, discard and reading what serves. Services are shaped as Cloud Run
// returns them (cloud-run-traffic-fixtures.ts).

describe('traffic for a promote', () => {
  const current = reconciled(
    [
      rev('rec-shop-r6', 100, 'run-6'),
      rev('rec-shop-r5', 0, 'run-5'),
      rev('rec-shop-r7', 0, 'run-7'),
    ],
    'rec-shop-r7',
  );

  it('moves all traffic to the revision, keeps the replaced one at 0% with its tag, drops other tags', () => {
    assert.deepEqual(trafficForPromote(current, 'rec-shop-r7'), [
      rev('rec-shop-r7', 100, 'run-7'),
      rev('rec-shop-r6', 0, 'run-6'),
    ]);
    assert.equal(currentLiveRevision(current), 'rec-shop-r6');
  });

  it('keeps no 0% target for a replaced revision without a tag', () => {
    const untagged = reconciled(
      [rev('rec-shop-r6', 100), rev('rec-shop-r7', 0, 'run-7')],
      'rec-shop-r7',
    );
    assert.deepEqual(trafficForPromote(untagged, 'rec-shop-r7'), [
      rev('rec-shop-r7', 100, 'run-7'),
    ]);
  });

  it('treats the largest share of a split as the live revision it replaces', () => {
    const split = reconciled([rev('a', 30, 'ta'), rev('b', 70, 'tb'), rev('c', 0, 'tc')], 'c');
    assert.deepEqual(trafficForPromote(split, 'c'), [rev('c', 100, 'tc'), rev('b', 0, 'tb')]);
  });

  it('replaces the revision that really serves, not a failed one the desired traffic names', () => {
    // A promote of rec-shop-r8 (which failed to start) did not reconcile.
    const failedPromote = {
      ...current,
      traffic: [rev('rec-shop-r8', 100, 'run-8'), rev('rec-shop-r6', 0, 'run-6')],
      latestCreatedRevision: full('rec-shop-r8'),
    };
    assert.equal(currentLiveRevision(failedPromote), 'rec-shop-r6');
    assert.deepEqual(trafficForPromote(failedPromote, 'rec-shop-r7'), [
      rev('rec-shop-r7', 100, 'run-7'),
      rev('rec-shop-r6', 0, 'run-6'),
    ]);
  });

  it('knows a revision holds all traffic only when it is both asked for and served', () => {
    assert.equal(holdsAllTraffic(current, 'rec-shop-r6'), true);
    assert.equal(holdsAllTraffic(current, 'rec-shop-r7'), false);
    const latest = {
      traffic: [],
      latestReadyRevision: full('x'),
      trafficStatuses: [{ type: LATEST, revision: '', percent: 100, tag: '', uri: '' }],
    };
    assert.equal(holdsAllTraffic(latest, 'x'), true);
    // Asked for but never served: the promote's reconciliation failed; send it again.
    const asked = { ...current, traffic: [rev('rec-shop-r7', 100, 'run-7')] };
    assert.equal(holdsAllTraffic(asked, 'rec-shop-r7'), false);
    assert.equal(holdsAllTraffic(asked, 'rec-shop-r6'), false);
  });
});

describe('traffic without a discarded revision', () => {
  it('removes every target of the revision and reports what it removed and serves', () => {
    const current = reconciled([rev('a', 100, 'ta'), rev('b', 0, 'tb')], 'b');
    assert.deepEqual(trafficWithout(current, 'b'), {
      traffic: [rev('a', 100, 'ta')],
      removed: [rev('b', 0, 'tb')],
      servingPercent: 0,
    });
    assert.equal(trafficWithout(current, 'a')?.servingPercent, 100);
    assert.equal(trafficWithout(current, 'zzz'), undefined);
  });

  it('gives a failed revision’s desired share back to what really serves', () => {
    const current = {
      traffic: [rev('b', 100, 'tb'), rev('a', 0, 'ta'), rev('c', 0, 'tc')],
      trafficStatuses: [status('a', 100, 'ta'), status('c', 0, 'tc')],
      latestReadyRevision: full('a'),
      latestCreatedRevision: full('b'),
    };
    assert.deepEqual(trafficWithout(current, 'b'), {
      traffic: [rev('a', 100, 'ta'), rev('c', 0, 'tc')],
      removed: [rev('b', 100, 'tb')],
      servingPercent: 0,
    });
  });

  it('sends empty traffic when the failed revision was the only one (nothing serves)', () => {
    const current = {
      traffic: [rev('b', 100, 'tb')],
      trafficStatuses: [],
      latestReadyRevision: '',
      latestCreatedRevision: full('b'),
    };
    assert.deepEqual(trafficWithout(current, 'b'), {
      traffic: [],
      removed: [rev('b', 100, 'tb')],
      servingPercent: 0,
    });
  });
});

describe('traffic reading helpers', () => {
  it('finds a deploy that already happened by revision and tag in the desired traffic', () => {
    const current = reconciled([rev('a', 100), rev('b', 0, 'tb')], 'b');
    assert.equal(hasTaggedTarget(current, 'b', 'tb'), true);
    assert.equal(hasTaggedTarget(current, 'b', 'other'), false);
    assert.equal(hasTaggedTarget(current, 'a', 'tb'), false);
    // A deploy whose revision failed also happened: the retry must not send it again.
    const failed = { ...current, traffic: [rev('a', 100), rev('c', 0, 'tc')] };
    assert.equal(hasTaggedTarget(failed, 'c', 'tc'), true);
  });

  it('reads ServiceTraffic from traffic statuses, resolving "latest" and the previous revision', () => {
    const traffic = readServiceTraffic({
      name: SERVICE,
      uri: 'https://rec-shop-abc123-uc.a.run.app',
      annotations: { [PREVIOUS_REVISION_ANNOTATION]: 'rec-shop-r5' },
      latestReadyRevision: full('rec-shop-r7'),
      trafficStatuses: [
        { type: LATEST, revision: '', percent: 100, tag: '', uri: '' },
        status('rec-shop-r5', 0, 'run-5'),
      ],
    });
    assert.deepEqual(traffic, {
      service: 'rec-shop',
      serviceUrl: 'https://rec-shop-abc123-uc.a.run.app',
      liveRevision: 'rec-shop-r7',
      previousRevision: 'rec-shop-r5',
      targets: [
        { revision: 'rec-shop-r7', percent: 100 },
        {
          revision: 'rec-shop-r5',
          percent: 0,
          tag: 'run-5',
          url: 'https://run-5---rec-shop-abc123-uc.a.run.app',
        },
      ],
    });
  });

  it('reads what serves, not the desired traffic, when they differ', () => {
    const live = readServiceTraffic({
      name: SERVICE,
      uri: 'u',
      traffic: [rev('rec-shop-r6', 100, 'run-6'), rev('rec-shop-r5', 0, 'run-5')],
      trafficStatuses: [status('rec-shop-r5', 100, 'run-5')],
      latestReadyRevision: full('rec-shop-r5'),
      latestCreatedRevision: full('rec-shop-r6'),
    });
    assert.equal(live.liveRevision, 'rec-shop-r5');
    assert.deepEqual(
      live.targets.map((t) => [t.revision, t.percent]),
      [['rec-shop-r5', 100]],
    );
    const firstFailed = readServiceTraffic({
      name: SERVICE,
      uri: '',
      traffic: [rev('rec-shop-r1', 100, 'run-1')],
      trafficStatuses: [],
      latestReadyRevision: '',
      latestCreatedRevision: full('rec-shop-r1'),
    });
    assert.deepEqual(firstFailed, { service: 'rec-shop', serviceUrl: '', targets: [] });
  });

  it('reports no live revision while traffic is split', () => {
    const traffic = readServiceTraffic({
      name: SERVICE,
      uri: 'u',
      latestReadyRevision: full('b'),
      trafficStatuses: [status('a', 50), status('b', 50)],
    });
    assert.equal(traffic.liveRevision, undefined);
    assert.equal(traffic.previousRevision, undefined);
  });

  it('shortens full revision names and leaves short ones alone', () => {
    assert.equal(shortRevisionName(full('rec-shop-r7')), 'rec-shop-r7');
    assert.equal(shortRevisionName('rec-shop-r7'), 'rec-shop-r7');
    assert.equal(shortRevisionName(undefined), '');
  });
});
