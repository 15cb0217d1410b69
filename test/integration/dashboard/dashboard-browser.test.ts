/**
 * The dashboard in chromium (browser-bench.ts): runs reaching live or
 * failing, shown step by step without a reload, as their documents say;
 * hostile run fields rendered as text. Serving records: dashboard-serving-browser.test.ts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ChainWriter,
  sampleRunFixture,
  stepsToFailedVerification,
  stepsToLive,
} from '../../support/dashboard/chain-walk.js';
import { BrowserBench, LAPTOP, STEP_TIMEOUT_MS } from '../../support/dashboard/browser-bench.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SCREENSHOT = path.join(ROOT, 'test-artifacts/dashboard.png');

describe('dashboard in a browser (chromium via playwright-core)', function () {
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

  it('shows a run reaching live, without a reload, as its run document says', async () => {
    const fixture = sampleRunFixture();
    const live = await bench.walkWatching(stepsToLive(bench.store, fixture));
    const run = bench.card(live.runId);
    const serving = live.serving;
    const verification = live.verification;
    assert.ok(serving && verification);

    assert.equal(await bench.text(run, 'run-status'), 'live');
    assert.equal(await bench.text(run, 'run-number'), '#1');
    assert.equal(await bench.text(run, 'run-id'), live.runId);
    assert.equal(await bench.text(run, 'model-type'), 'retrieval · scann');
    assert.equal(await bench.text(run, 'blessed'), 'blessed');
    assert.deepEqual(await run.locator('[data-testid="metrics"] .chip').allTextContents(), [
      'recall_at_100 0.4213',
      'loss 0.0811',
    ]);
    assert.equal(await bench.text(run, 'serving-runtime'), 'ann-serving (mode ann)');
    assert.equal(await bench.text(run, 'runtime-reason'), serving.runtimeReason);
    assert.equal(await bench.text(run, 'serving-revision'), serving.revision);
    assert.equal(
      await run.locator('a[data-testid="serving-url"]').getAttribute('href'),
      serving.url,
    );
    for (const check of verification.checks) {
      const item = run.locator(`[data-testid="check"][data-check="${check.name}"]`);
      assert.equal(await item.getAttribute('data-passed'), String(check.passed), check.name);
      assert.equal(await bench.text(item, 'check-detail'), check.detail, check.name);
    }
    assert.equal(await run.locator('[data-testid="check"]').count(), verification.checks.length);
    assert.equal(await bench.text(run, 'latency-p50'), `${verification.latencyP50Ms} ms`);
    assert.equal(await bench.text(run, 'latency-p99'), `${verification.latencyP99Ms} ms`);
    assert.equal(await bench.text(run, 'recall'), String(verification.recallAtK?.recall));
    assert.match((await run.locator('.figure').last().textContent()) ?? '', /^recall@10 /);
    assert.deepEqual(await run.locator('[data-testid="step-attempts"]').allTextContents(), [
      '1 attempt',
      '1 attempt',
      '1 attempt',
    ]);
    // "Live revision per service" is the service's serving record, which reaches the page
    // as its own event right after the run's; what the card says of traffic comes from it.
    const row = bench.page.locator('[data-testid="live-revision"][data-service="rec-recs-home"]');
    await bench.page
      .locator(
        `[data-testid="live-revision"][data-service="rec-recs-home"][data-run-id="${live.runId}"]`,
      )
      .waitFor({ timeout: STEP_TIMEOUT_MS });
    assert.equal(await bench.text(run, 'serving-live'), 'serving 100% of traffic');
    assert.equal(await bench.text(run, 'serving-traffic'), '100% of rec-recs-home');
    assert.equal(await bench.text(row, 'live-revision-name'), serving.revision);
    assert.equal(await bench.text(row, 'live-run'), `${live.runId} (#1)`);
    assert.equal(await bench.text(row, 'live-traffic'), `${serving.revision} 100%`);
    assert.equal(await bench.text(row, 'live-previous'), '—');
    assert.equal(await row.locator('a[data-testid="live-url"]').getAttribute('href'), serving.url);
    assert.equal(await bench.sameDocument(), true);
  });

  it('shows a failed run with its error in plain words, and keeps the live revision', async () => {
    const base = sampleRunFixture(
      { modelEndpointId: 'recs-cart', trainingRunId: 'train-007', runNumber: 7 },
      'f00dfeed',
    );
    const fixture = {
      ...base,
      verification: {
        checks: [
          { name: 'model_available', passed: true, detail: 'AVAILABLE after 0.8 s' },
          { name: 'metadata_inputs', passed: true, detail: 'inputs customer_id, city, segment' },
          { name: 'smoke_predictions', passed: true, detail: '3 instances, 10 ids each' },
          { name: 'latency', passed: false, detail: 'p99 1450 ms > 1000 ms' },
          { name: 'ann_recall', passed: true, detail: 'recall@10 0.93 ≥ 0.9 over 100 queries' },
        ],
        latencyP50Ms: 310.5,
        latencyP99Ms: 1450,
        recallAtK: { k: 10, recall: 0.93 },
      },
    };
    const steps = stepsToFailedVerification(bench.store, fixture);
    // Up to the first deploy attempt's passing failure: the page says it will retry.
    await bench.walkWatching(steps.slice(0, 5));
    const runId = 'recs-cart-train-007';
    const deploy = bench.card(runId).locator('[data-step="deploy"]');
    assert.equal(
      await bench.text(deploy, 'step-error'),
      'Attempt 1 failed, will retry. A cloud service was unavailable (DEPENDENCY.UNAVAILABLE): ' +
        'Cloud Run: 503 UNAVAILABLE: the service is temporarily unavailable',
    );

    const failed = await bench.walkWatching(steps.slice(5));
    const run = bench.card(runId);
    assert.equal(await bench.text(run, 'run-status'), 'failed');
    assert.equal(
      await bench.text(run, 'run-problem-headline'),
      'Failed at verify: The new revision failed verification (latency above its limit), ' +
        'so traffic was not moved',
    );
    assert.equal(await bench.text(run, 'status-reason'), failed.statusReason);
    assert.match(failed.statusReason ?? '', /^verify attempt 1 failed: VERIFY\.FAILED: 1 of 5/);
    const verifyError = run.locator('[data-step="verify"] [data-testid="step-error"]');
    assert.equal(await verifyError.getAttribute('data-code'), 'VERIFY.FAILED');
    assert.equal(
      await verifyError.textContent(),
      'The new revision failed verification (latency above its limit), so traffic was not moved ' +
        `(VERIFY.FAILED): ${failed.steps.verify.error?.message}`,
    );
    assert.equal(await bench.text(deploy, 'step-attempts'), '2 attempts');
    const latency = run.locator('[data-testid="check"][data-check="latency"]');
    assert.equal(await latency.getAttribute('data-passed'), 'false');
    assert.equal(await bench.text(latency, 'check-detail'), 'p99 1450 ms > 1000 ms');
    assert.equal(await bench.text(run, 'latency-p50'), '310.5 ms');
    // A failed revision never takes traffic: the cart endpoint has no live revision.
    assert.equal(
      await bench.page
        .locator('[data-testid="live-revision"][data-service="rec-recs-cart"]')
        .count(),
      0,
    );
    assert.equal(await bench.page.locator('[data-testid="live-revision"]').count(), 1);

    // Readable on a laptop screen: nothing wider than the window.
    const pageWidth = await bench.page.evaluate<number>('document.documentElement.scrollWidth');
    assert.ok(pageWidth <= LAPTOP.width, `the page is ${pageWidth} px wide`);
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await bench.page.screenshot({ path: SCREENSHOT });
    assert.ok(fs.statSync(SCREENSHOT).size > 10_000);
    assert.equal(await bench.sameDocument(), true);
  });

  it('renders hostile run fields as text, never as markup or links', async () => {
    const fixture = sampleRunFixture({
      modelEndpointId: 'recs-xss',
      modelSlug: '<img src=x onerror="window.__xss=1">',
      metrics: { '<script>window.__xss=5</script>': 1 },
    });
    const chain = new ChainWriter(bench.store, fixture);
    const message = '<script>window.__xss=2</script> is not a model';
    await bench.walkWatching([
      { status: 'received', write: () => chain.create() },
      { status: 'registering', write: () => chain.claim('register') },
      {
        status: 'failed',
        write: () =>
          chain.fail(
            'register',
            { code: 'REGISTRY.REJECTED', message },
            {
              permanent: true,
              patch: {
                serving: {
                  runtime: '<b>ann-serving</b>',
                  runtimeReason: '<img src=y onerror="window.__xss=4">',
                  service: 'svc',
                  url: 'javascript:window.__xss=3',
                },
              },
            },
          ),
      },
    ]);
    const run = bench.card(chain.runId);
    assert.equal(await bench.text(run, 'model-slug'), '<img src=x onerror="window.__xss=1">');
    assert.equal(await bench.text(run, 'runtime-reason'), '<img src=y onerror="window.__xss=4">');
    assert.equal(await bench.text(run, 'serving-runtime'), '<b>ann-serving</b>');
    assert.ok((await bench.text(run, 'step-error'))?.endsWith(`(REGISTRY.REJECTED): ${message}`));
    assert.equal(
      await run.locator('[data-testid="metrics"] .chip').textContent(),
      '<script>window.__xss=5</script> 1',
    );
    // A javascript: URL is shown, never linked.
    assert.equal(await run.locator('a[data-testid="serving-url"]').count(), 0);
    assert.equal(await bench.text(run, 'serving-url'), 'javascript:window.__xss=3');
    assert.equal(await run.locator('img, script, b').count(), 0);
    assert.equal(await bench.page.evaluate('typeof window.__xss'), 'undefined');
  });

  // Last: it reloads the page, which the tests above must not see.
  it('shows a banner per open freshness alert at the top, gone once it is closed', async () => {
    const alert = {
      alertId: 'recs-home:max_age:2030-01-08T00:00:00.000Z',
      modelEndpointId: 'recs-home',
      kind: 'max_age',
      thresholdS: 604_800,
      breachedSince: '2030-01-08T00:00:00.000Z',
      detail: 'the live run recs-home-t1 finished training 8d ago (limit 7d)',
      openedAt: '2030-01-09T00:00:00.000Z',
    } as const;
    await bench.store.openFreshnessAlert(alert);
    await bench.page.reload();
    const banner = bench.page.locator('[data-testid="freshness-banner"]');
    await banner.waitFor({ timeout: STEP_TIMEOUT_MS });
    assert.equal(await banner.getAttribute('data-endpoint-id'), 'recs-home');
    assert.equal(
      await banner.textContent(),
      'recs-home is stale: its live model finished training more than 7d ago · since ' +
        `${await banner.locator('time').textContent()}${alert.detail}`,
    );
    assert.equal(await banner.locator('time').getAttribute('datetime'), alert.breachedSince);
    await bench.store.closeFreshnessAlert(alert.alertId);
    await bench.page.reload();
    await bench.page
      .locator('[data-testid="endpoint"]')
      .first()
      .waitFor({ timeout: STEP_TIMEOUT_MS });
    assert.equal(await banner.count(), 0);
  });
});
