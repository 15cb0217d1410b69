/**
 * The dashboard in chromium (browser-bench.ts) following serving records:
 * "Live revision per service" is what the platform reports serving, a run
 * that lost its traffic to a newer one is shown as replaced (not as rolled
 * back), and a rollback's observation moves both ways without a reload.
 */
import assert from 'node:assert/strict';
import { ChainWriter, sampleRunFixture, stepsToLive } from '../../support/dashboard/chain-walk.js';
import { BrowserBench, STEP_TIMEOUT_MS } from '../../support/dashboard/browser-bench.js';

describe('dashboard in a browser: what serves', function () {
  this.timeout(60_000);
  let bench: BrowserBench;

  before(async () => {
    bench = await BrowserBench.open();
  });
  after(() => bench?.close());
  afterEach(() => assert.deepEqual(bench.pageErrors, []));

  it('tells replaced from rolled back, and follows the serving record both ways', async () => {
    const one = sampleRunFixture();
    const oneId = (await bench.walkWatching(stepsToLive(bench.store, one))).runId;
    const twoFixture = sampleRunFixture({ trainingRunId: 'train-002', runNumber: 2 }, 'e5f6a7b8');
    const two = await bench.walkWatching(stepsToLive(bench.store, twoFixture));
    const row = bench.page.locator('[data-testid="live-revision"][data-service="rec-recs-home"]');
    await bench.page
      .locator(
        `[data-testid="live-revision"][data-service="rec-recs-home"][data-run-id="${two.runId}"]`,
      )
      .waitFor({ timeout: STEP_TIMEOUT_MS });
    assert.equal(await bench.text(row, 'live-revision-name'), twoFixture.serving.revision);
    assert.match(
      (await bench.text(row, 'live-previous')) ?? '',
      new RegExp(`^${one.serving.revision} \\(run ${oneId}\\) until `),
    );

    // Run 1 lost its traffic to a newer run: replaced, said as such, not as a rollback.
    const replaced = bench.card(oneId);
    await bench.page
      .locator(`[data-testid="run"][data-run-id="${oneId}"][data-status="replaced"]`)
      .waitFor({ timeout: STEP_TIMEOUT_MS });
    assert.equal(await bench.text(replaced, 'run-status'), 'replaced');
    assert.equal(
      await bench.text(replaced, 'run-problem-headline'),
      `Replaced by run ${two.runId}: a newer run took its traffic`,
    );
    assert.equal(await replaced.locator('[data-testid="serving-live"]').count(), 0);
    await replaced.evaluate('(element) => element.setAttribute("open", "")');
    assert.equal(
      await bench.text(replaced, 'serving-traffic'),
      `0%: rec-recs-home serves ${twoFixture.serving.revision} (run ${two.runId})`,
    );

    // An operator rolls back to run 1's revision: the platform reports it serving again.
    const moved = await new ChainWriter(bench.store, twoFixture).observe(
      {
        serviceUrl: twoFixture.serviceUrl,
        liveRevision: one.serving.revision ?? '',
        targets: [{ revision: one.serving.revision ?? '', percent: 100 }],
      },
      `rolled back by an operator to revision ${one.serving.revision}`,
    );
    assert.deepEqual(
      moved.map((run) => [run.runId, run.status]),
      [
        [two.runId, 'rolled_back'],
        [oneId, 'live'],
      ],
    );
    await bench.page
      .locator(
        `[data-testid="live-revision"][data-service="rec-recs-home"][data-run-id="${oneId}"]`,
      )
      .waitFor({ timeout: STEP_TIMEOUT_MS });
    assert.equal(await bench.text(row, 'live-revision-name'), one.serving.revision);
    const rolledBack = bench.card(two.runId);
    await bench.page
      .locator(`[data-testid="run"][data-run-id="${two.runId}"][data-status="rolled_back"]`)
      .waitFor({ timeout: STEP_TIMEOUT_MS });
    assert.equal(
      await bench.text(rolledBack, 'run-problem-headline'),
      'Rolled back: traffic was moved to another revision',
    );
    await bench.page
      .locator(`[data-testid="run"][data-run-id="${oneId}"][data-status="live"]`)
      .waitFor({ timeout: STEP_TIMEOUT_MS });
    assert.equal(await bench.text(bench.card(oneId), 'serving-live'), 'serving 100% of traffic');
    assert.equal(
      await bench.page.locator('[data-testid="serving-live"]').count(),
      1,
      'one run serves',
    );
    assert.equal(await bench.sameDocument(), true);
  });
});
