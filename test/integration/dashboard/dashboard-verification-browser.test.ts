/**
 * The dashboard in chromium (browser-bench.ts) showing what verification
 * says beyond pass and fail: a check skipped (it could not run and counted
 * neither way) reads skipped, the model fingerprint the revision had to serve
 * (its full hashes in the tooltip), and the replay of live queries of a run
 * it failed, named by its gate in the run's headline.
 */
import assert from 'node:assert/strict';
import {
  sampleRunFixture,
  stepsToFailedVerification,
  stepsToLive,
} from '../../support/dashboard/chain-walk.js';
import { BrowserBench } from '../../support/dashboard/browser-bench.js';

describe('dashboard in a browser: skipped checks, fingerprint, replay', function () {
  this.timeout(60_000);
  let bench: BrowserBench;

  before(async () => {
    bench = await BrowserBench.open();
  });
  after(() => bench?.close());
  afterEach(() => {
    // A script error or a blocked resource (CSP) shows up here.
    assert.deepEqual(bench.pageErrors, []);
  });

  it('shows a skipped check as skipped, the fingerprint, and the replay report of a run it failed', async () => {
    const fingerprint = {
      trainingRunId: 'train-001',
      id: '9f86d081884c7d65',
      queryModelSha256: 'a'.repeat(64),
      candidatesSha256: 'b'.repeat(64),
    };
    const first = sampleRunFixture({ modelEndpointId: 'recs-replay' }, 'feed0001');
    const skippedDetail =
      'not run: no revision of rec-recs-replay serves all its traffic (first deploy), so there are no live queries to replay';
    const live = await bench.walkWatching(
      stepsToLive(bench.store, {
        ...first,
        verification: {
          ...first.verification,
          checks: [
            ...first.verification.checks,
            { name: 'replay', passed: false, skipped: true, detail: skippedDetail },
          ],
          fingerprint,
        },
      }),
    );
    const card = bench.card(live.runId);
    const skipped = card.locator('[data-testid="check"][data-check="replay"]');
    assert.equal(await skipped.getAttribute('data-skipped'), 'true');
    assert.equal(await skipped.locator('[aria-label]').getAttribute('aria-label'), 'skipped');
    assert.equal(await bench.text(skipped, 'check-skipped'), 'skipped');
    assert.equal(await bench.text(skipped, 'check-detail'), skippedDetail);
    assert.equal(await bench.text(card, 'fingerprint-id'), '9f86d081884c');
    assert.equal(await bench.text(card, 'fingerprint-run'), 'train-001');
    assert.match(
      (await card.locator('[data-testid="fingerprint"]').getAttribute('title')) ?? '',
      new RegExp(`candidates sha256 ${'b'.repeat(64)}`),
    );
    assert.equal(await card.locator('[data-testid="replay"]').count(), 0);

    const second = sampleRunFixture(
      { modelEndpointId: 'recs-replay', trainingRunId: 'train-002', runNumber: 2 },
      'feed0002',
    );
    const recallTooLow =
      'recall too low: 200 live queries of revision rec-recs-replay-r1-feed0001; recall@10 0.36 against exact search (minRecall 0.9)';
    const replay = {
      sampleUri: 'gs://artifacts/replay/recs-replay/rec-recs-replay-r1-feed0001.json',
      sampledAt: new Date(Date.now() - 90_000).toISOString(),
      liveRevision: 'rec-recs-replay-r1-feed0001',
      queries: 200,
      k: 10,
      recallAtK: 0.36,
      overlapAtK: 0.41,
      degenerateShare: 0.015,
      candidateLatencyP50Ms: 3.1,
      candidateLatencyP99Ms: 12.5,
      liveLatencyP50Ms: 2.9,
      liveLatencyP99Ms: 8,
    };
    const failed = await bench.walkWatching(
      stepsToFailedVerification(bench.store, {
        ...second,
        verification: {
          ...second.verification,
          checks: [
            ...second.verification.checks,
            { name: 'replay', passed: false, detail: recallTooLow },
          ],
          fingerprint: { ...fingerprint, trainingRunId: 'train-002' },
          replay,
        },
      }),
    );
    const run = bench.card(failed.runId);
    assert.equal(
      await bench.text(run, 'run-problem-headline'),
      'Failed at verify: The new revision failed verification (ANN recall on replayed live ' +
        'queries below its floor), so traffic was not moved',
    );
    const check = run.locator('[data-testid="check"][data-check="replay"]');
    assert.equal(await check.getAttribute('data-passed'), 'false');
    assert.equal(await check.getAttribute('data-skipped'), null);
    assert.equal(await check.locator('[aria-label]').getAttribute('aria-label'), 'failed');
    assert.equal(await bench.text(run, 'replay-queries'), '200');
    assert.equal(await bench.text(run, 'replay-recall'), '0.36');
    assert.equal(await bench.text(run, 'replay-overlap'), '0.41');
    assert.equal(await bench.text(run, 'replay-degenerate'), '1.5%');
    assert.equal(
      await bench.text(run, 'replay-latency'),
      'candidate 3.1 / 12.5 ms, live 2.9 / 8 ms',
    );
    assert.equal(await bench.text(run, 'replay-live-revision'), replay.liveRevision);
    assert.match(
      (await bench.text(run, 'replay-sample-age')) ?? '',
      /^written .+ before the replay$/,
    );
  });
});
