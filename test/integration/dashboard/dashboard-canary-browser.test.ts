/**
 * The dashboard in chromium (browser-bench.ts) following a canary: the run
 * in `canary` has its own colour and label, and its panel shows each step as
 * the ticks write it (share of traffic, window, the canary's metrics beside
 * the stable's, the verdict), the operator's request and the outcome, all by
 * live updates. Every state is made by the domain's functions and written
 * through the real SQLite store (updateCanary), as a tick writes it.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_CANARY_PLAN,
  applyOperatorRequest,
  canaryFinished,
  decideHold,
  judgeCanaryWindow,
  requestCanaryAction,
  startCanary,
  trafficMoved,
  type CanaryState,
  type RunDocument,
  type UpdateCanaryRequest,
  type WindowMetrics,
} from '@recdeploy/shared';
import { ChainWriter, sampleRunFixture, stepsToLive } from '../../support/dashboard/chain-walk.js';
import { BrowserBench, STEP_TIMEOUT_MS } from '../../support/dashboard/browser-bench.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SCREENSHOT = path.join(ROOT, 'test-artifacts/dashboard-canary.png');
const PLAN = DEFAULT_CANARY_PLAN;
const HEALTHY: WindowMetrics = { requests: 1_203, errors: 2, latencyP50Ms: 4, latencyP99Ms: 19 };
const STABLE: WindowMetrics = { requests: 10_811, errors: 11, latencyP50Ms: 4, latencyP99Ms: 18 };
const FAILING: WindowMetrics = { requests: 900, errors: 90, latencyP50Ms: 4.25, latencyP99Ms: 21 };

describe('dashboard in a browser: a canary', function () {
  this.timeout(60_000);
  let bench: BrowserBench;

  before(async () => {
    bench = await BrowserBench.open();
  });
  after(() => bench?.close());
  afterEach(() => assert.deepEqual(bench.pageErrors, []));

  /** A stable run live, then a second run of the endpoint in canary at 10% since `movedAt`. */
  async function canaryRun(endpoint: string, movedAt: Date) {
    const stableFixture = sampleRunFixture({ modelEndpointId: endpoint }, 'aaaa1111');
    const stable = await bench.walkWatching(stepsToLive(bench.store, stableFixture));
    const fixture = sampleRunFixture(
      { modelEndpointId: endpoint, trainingRunId: 'train-002', runNumber: 2 },
      'bbbb2222',
    );
    const chain = new ChainWriter(bench.store, fixture);
    await bench.walkWatching(chain.toVerifying());
    const state = trafficMoved(
      startCanary(
        PLAN,
        {
          revision: fixture.serving.revision ?? '',
          stableRevision: stableFixture.serving.revision ?? '',
          stableRunId: stable.runId,
        },
        movedAt,
      ),
      movedAt,
    );
    const run = await chain.startCanary(state, 10);
    await shown(run);
    return { chain, run, state, stable };
  }

  /** Writes the canary's next state as a tick does, and waits until the page shows it. */
  async function write(
    runId: string,
    current: CanaryState,
    next: CanaryState,
    endAs?: UpdateCanaryRequest['endAs'],
  ): Promise<CanaryState> {
    const result = await bench.store.updateCanary({
      runId,
      expectSeq: current.seq,
      canary: next,
      ...(endAs === undefined ? {} : { endAs }),
    });
    assert.ok(result.updated, 'the compare-and-set wrote');
    await shown(result.run);
    return next;
  }

  function shown(run: RunDocument): Promise<void> {
    return bench.waitFor(
      `[data-testid="run"][data-run-id="${run.runId}"][data-updated-at="${run.updatedAt}"]`,
    );
  }

  it('shows each step as it happens: share, window, metrics side by side, verdict, outcome', async () => {
    const movedAt = new Date(Date.now() - 60_000);
    const after = (s: number) => new Date(movedAt.getTime() + s * 1_000);
    const { chain, run, stable } = await canaryRun('recs-home', movedAt);
    let state = run.canary;
    assert.ok(state);
    const card = bench.card(run.runId);
    assert.equal(await bench.text(card, 'run-status'), 'canary');
    assert.match(
      (await card.locator('[data-testid="run-status"]').getAttribute('class')) ?? '',
      /tone-canary/,
    );
    assert.equal(
      await bench.page.evaluate(
        `getComputedStyle(document.querySelector('[data-run-id="${run.runId}"]')).borderLeftColor`,
      ),
      'rgb(107, 63, 160)',
      'the canary colour (canary.css) applies',
    );

    // A tick's first judgement: healthy so far, not held long enough.
    const waiting = judgeCanaryWindow(PLAN, HEALTHY, STABLE, { from: movedAt, through: after(42) });
    state = await write(run.runId, state, decideHold(state, waiting, after(42)));
    const first = card.locator('[data-testid="canary-step"][data-step-index="0"]');
    assert.equal(await bench.text(first, 'canary-percent'), '10% of traffic');
    assert.equal(await bench.text(first, 'canary-verdict'), 'judging…');
    assert.match(
      (await bench.text(first, 'canary-window')) ?? '',
      /^window from .+ · held 1 min \d+ s$/,
    );
    const errors = first.locator('[data-metric="error_ratio"]');
    assert.equal(await bench.text(errors, 'canary-value'), '0.2%');
    assert.equal(await bench.text(errors, 'stable-value'), '0.1%');
    assert.equal(await errors.getAttribute('data-passed'), 'true');
    assert.equal(
      await bench.text(first.locator('[data-metric="requests"]'), 'canary-value'),
      '1 203',
    );
    assert.equal(await bench.text(first, 'canary-summary'), waiting.summary);
    assert.equal(
      await bench.text(card, 'status-text'),
      'canary: holding step 1 of 2 (10% of traffic), judged against the stable',
    );
    // The split is the serving record's: the stable keeps the larger share and stays live.
    assert.equal(await bench.text(card, 'serving-live'), 'serving 10% of traffic');
    const row = bench.page.locator('[data-testid="live-revision"][data-service="rec-recs-home"]');
    assert.equal(await row.getAttribute('data-run-id'), stable.runId);
    assert.equal(
      await bench.text(row, 'live-traffic'),
      `${stable.serving?.revision} 90% · ${run.serving?.revision} 10%`,
    );

    // Held 300 s and healthy: step 1 passes, step 2 (50%) is decided, then serves and fails.
    const pass = judgeCanaryWindow(PLAN, HEALTHY, STABLE, { from: movedAt, through: after(300) });
    state = await write(run.runId, state, decideHold(state, pass, after(300)));
    assert.equal(await bench.text(first, 'canary-verdict'), 'passed');
    assert.equal(await bench.text(first, 'canary-held'), '5 min 0 s');
    const second = card.locator('[data-testid="canary-step"][data-step-index="1"]');
    assert.equal(await bench.text(second, 'canary-percent'), '50% of traffic');
    assert.equal(await bench.text(second, 'canary-verdict'), 'moving traffic…');
    await chain.observe(chain.split(state, 50), 'canary step 2');
    state = await write(run.runId, state, trafficMoved(state, after(305)));
    const failed = judgeCanaryWindow(PLAN, FAILING, STABLE, {
      from: after(305),
      through: after(365),
    });
    assert.equal(failed.verdict, 'fail');
    state = await write(run.runId, state, decideHold(state, failed, after(365)));
    assert.equal(await bench.text(second, 'canary-verdict'), 'failed');
    assert.equal(
      await second.locator('[data-metric="error_ratio"]').getAttribute('data-passed'),
      'false',
    );
    assert.equal(
      await bench.text(second.locator('[data-metric="error_ratio"]'), 'canary-value'),
      '10.0%',
    );
    assert.equal(await bench.text(card, 'canary-outcome-reason'), state.outcome?.reason);
    assert.match(
      state.outcome?.reason ?? '',
      /^step 2 of 2 \(50% of traffic\) failed: error ratio/,
    );

    // The tick restores the stable and ends the run rolled back.
    await chain.observe(chain.split(state, 0), 'canary aborted');
    await write(run.runId, state, canaryFinished(state, after(370)), {
      status: 'rolled_back',
      reason: `canary aborted: ${state.outcome?.reason ?? ''}`,
    });
    assert.equal(await bench.text(card, 'run-status'), 'rolled_back');
    assert.equal(
      await bench.text(card, 'run-problem-headline'),
      'Canary aborted: all traffic went back to the stable revision',
    );
    assert.equal(
      await card.locator('[data-testid="canary-outcome"] strong').textContent(),
      'aborted: all traffic went back to the stable',
    );
    await bench.page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.equal(await bench.sameDocument(), true);
  });

  it('shows an operator’s abort: requested, then carried out by the next tick', async () => {
    const movedAt = new Date(Date.now() - 30_000);
    const { run } = await canaryRun('recs-cart', movedAt);
    let state = run.canary;
    assert.ok(state);
    const now = new Date();
    const by = 'alice via recdeploy abort';
    state = await write(
      run.runId,
      state,
      requestCanaryAction(state, { action: 'abort', at: now.toISOString(), by }, now),
    );
    const card = bench.card(run.runId);
    assert.match(
      (await bench.text(card, 'canary-request')) ?? '',
      new RegExp(`^Abort requested by ${by} at .+: waiting for the next canary tick$`),
    );
    await write(run.runId, state, applyOperatorRequest(state, new Date()));
    await bench.page
      .locator(
        `[data-testid="run"][data-run-id="${run.runId}"] [data-testid="canary"][data-phase="aborting"]`,
      )
      .waitFor({ timeout: STEP_TIMEOUT_MS });
    assert.match((await bench.text(card, 'canary-request')) ?? '', /: carried out$/);
    assert.equal(await bench.text(card, 'canary-verdict'), 'aborted by operator');
    assert.equal(
      await bench.text(card, 'canary-outcome-reason'),
      `aborted by ${by} at step 1 of 2 (10% of traffic)`,
    );
  });
});
