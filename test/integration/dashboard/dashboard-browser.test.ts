import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import type { RunDocument } from '@recdeploy/shared';
import { SqliteRunStore } from '@recdeploy/shared/local';
import { localDataFiles } from '@recdeploy/shared/wiring';
import {
  ChainWriter,
  sampleRunFixture,
  stepsToFailedVerification,
  stepsToLive,
  type ChainStep,
} from '../../support/dashboard/chain-walk.js';
import { launchChromium } from '../../support/dashboard/chromium.js';
import {
  startDashboardProcess,
  type DashboardProcess,
} from '../../support/dashboard/dashboard-process.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SCREENSHOT = path.join(ROOT, 'test-artifacts/dashboard.png');
const LAPTOP = { width: 1366, height: 768 };
const STEP_TIMEOUT_MS = 5_000;

describe('dashboard in a browser (chromium via playwright-core)', function () {
  this.timeout(60_000);
  let dir = '';
  let store: SqliteRunStore;
  let dashboard: DashboardProcess;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-dashboard-browser-'));
    store = new SqliteRunStore({ file: localDataFiles(dir).runStore });
    [dashboard, browser] = await Promise.all([
      startDashboardProcess({ dataDir: dir }),
      launchChromium(),
    ]);
    page = await browser.newPage({ viewport: LAPTOP });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.goto(dashboard.url);
    await page.locator('[data-testid="connection"][data-state="open"]').waitFor();
    await page.locator('[data-testid="runs-empty"]').waitFor();
    // Survives only if the page is never reloaded.
    await page.evaluate('window.__sameDocument = "yes"');
  });
  after(async () => {
    await browser?.close();
    await dashboard?.stop();
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  afterEach(() => {
    // A script error or a blocked resource (CSP) shows up here.
    assert.deepEqual(pageErrors, []);
  });

  function card(runId: string): Locator {
    return page.locator(`[data-testid="run"][data-run-id="${runId}"]`);
  }
  function text(scope: Locator, testid: string): Promise<string | null> {
    return scope.locator(`[data-testid="${testid}"]`).first().textContent();
  }

  /** Writes each step, then waits for the page to show it and checks it against the document. */
  async function walkWatching(steps: readonly ChainStep[]): Promise<RunDocument> {
    let doc: RunDocument | undefined;
    for (const step of steps) {
      doc = await step.write();
      assert.equal(doc.status, step.status);
      const run = card(doc.runId);
      // The page shows exactly this version of the run (every write stamps updatedAt).
      await page
        .locator(
          `[data-testid="run"][data-run-id="${doc.runId}"][data-updated-at="${doc.updatedAt}"]`,
        )
        .waitFor({ timeout: STEP_TIMEOUT_MS });
      assert.equal(await text(run, 'run-status'), step.status);
      for (const name of ['register', 'deploy', 'verify'] as const) {
        assert.equal(
          await run.locator(`[data-step="${name}"]`).getAttribute('data-step-status'),
          doc.steps[name].status,
          `${name} while ${step.status}`,
        );
      }
    }
    assert.ok(doc);
    return doc;
  }

  it('shows a run reaching live, without a reload, as its run document says', async () => {
    const fixture = sampleRunFixture();
    const live = await walkWatching(stepsToLive(store, fixture));
    const run = card(live.runId);
    const serving = live.serving;
    const verification = live.verification;
    assert.ok(serving && verification);

    assert.equal(await text(run, 'run-status'), 'live');
    assert.equal(await text(run, 'run-number'), '#1');
    assert.equal(await text(run, 'run-id'), live.runId);
    assert.equal(await text(run, 'model-type'), 'retrieval · scann');
    assert.equal(await text(run, 'blessed'), 'blessed');
    assert.deepEqual(await run.locator('[data-testid="metrics"] .chip').allTextContents(), [
      'recall_at_100 0.4213',
      'loss 0.0811',
    ]);
    assert.equal(await text(run, 'serving-runtime'), 'ann-serving (mode ann)');
    assert.equal(await text(run, 'runtime-reason'), serving.runtimeReason);
    assert.equal(await text(run, 'serving-revision'), serving.revision);
    assert.equal(
      await run.locator('a[data-testid="serving-url"]').getAttribute('href'),
      serving.url,
    );
    for (const check of verification.checks) {
      const item = run.locator(`[data-testid="check"][data-check="${check.name}"]`);
      assert.equal(await item.getAttribute('data-passed'), String(check.passed), check.name);
      assert.equal(await text(item, 'check-detail'), check.detail, check.name);
    }
    assert.equal(await run.locator('[data-testid="check"]').count(), verification.checks.length);
    assert.equal(await text(run, 'latency-p50'), `${verification.latencyP50Ms} ms`);
    assert.equal(await text(run, 'latency-p99'), `${verification.latencyP99Ms} ms`);
    assert.equal(await text(run, 'recall'), String(verification.recallAtK?.recall));
    assert.match((await run.locator('.figure').last().textContent()) ?? '', /^recall@10 /);
    assert.deepEqual(await run.locator('[data-testid="step-attempts"]').allTextContents(), [
      '1 attempt',
      '1 attempt',
      '1 attempt',
    ]);
    assert.equal(await text(run, 'serving-live'), 'serving traffic');

    const row = page.locator('[data-testid="live-revision"][data-service="rec-recs-home"]');
    assert.equal(await row.getAttribute('data-run-id'), live.runId);
    assert.equal(await text(row, 'live-revision-name'), serving.revision);
    assert.equal(await row.locator('a[data-testid="live-url"]').getAttribute('href'), serving.url);
    assert.equal(await page.evaluate('window.__sameDocument'), 'yes');
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
    const steps = stepsToFailedVerification(store, fixture);
    // Up to the first deploy attempt's passing failure: the page says it will retry.
    await walkWatching(steps.slice(0, 5));
    const runId = 'recs-cart-train-007';
    const deploy = card(runId).locator('[data-step="deploy"]');
    assert.equal(
      await text(deploy, 'step-error'),
      'Attempt 1 failed, will retry. A cloud service was unavailable (DEPENDENCY.UNAVAILABLE): ' +
        'Cloud Run: 503 UNAVAILABLE: the service is temporarily unavailable',
    );

    const failed = await walkWatching(steps.slice(5));
    const run = card(runId);
    assert.equal(await text(run, 'run-status'), 'failed');
    assert.equal(
      await text(run, 'run-problem-headline'),
      'Failed at verify: The new revision failed verification, so traffic was not moved',
    );
    assert.equal(await text(run, 'status-reason'), failed.statusReason);
    assert.match(failed.statusReason ?? '', /^verify attempt 1 failed: VERIFY\.FAILED: 1 of 5/);
    const verifyError = run.locator('[data-step="verify"] [data-testid="step-error"]');
    assert.equal(await verifyError.getAttribute('data-code'), 'VERIFY.FAILED');
    assert.equal(
      await verifyError.textContent(),
      `The new revision failed verification, so traffic was not moved (VERIFY.FAILED): ${failed.steps.verify.error?.message}`,
    );
    assert.equal(await text(deploy, 'step-attempts'), '2 attempts');
    const latency = run.locator('[data-testid="check"][data-check="latency"]');
    assert.equal(await latency.getAttribute('data-passed'), 'false');
    assert.equal(await text(latency, 'check-detail'), 'p99 1450 ms > 1000 ms');
    assert.equal(await text(run, 'latency-p50'), '310.5 ms');
    // A failed revision never takes traffic: the cart endpoint has no live revision.
    assert.equal(
      await page.locator('[data-testid="live-revision"][data-service="rec-recs-cart"]').count(),
      0,
    );
    assert.equal(await page.locator('[data-testid="live-revision"]').count(), 1);

    // Readable on a laptop screen: nothing wider than the window.
    const pageWidth = await page.evaluate<number>('document.documentElement.scrollWidth');
    assert.ok(pageWidth <= LAPTOP.width, `the page is ${pageWidth} px wide`);
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    assert.ok(fs.statSync(SCREENSHOT).size > 10_000);
    assert.equal(await page.evaluate('window.__sameDocument'), 'yes');
  });

  it('renders hostile run fields as text, never as markup or links', async () => {
    const fixture = sampleRunFixture({
      modelEndpointId: 'recs-xss',
      modelSlug: '<img src=x onerror="window.__xss=1">',
      metrics: { '<script>window.__xss=5</script>': 1 },
    });
    const chain = new ChainWriter(store, fixture);
    const message = '<script>window.__xss=2</script> is not a model';
    await walkWatching([
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
    const run = card(chain.runId);
    assert.equal(await text(run, 'model-slug'), '<img src=x onerror="window.__xss=1">');
    assert.equal(await text(run, 'runtime-reason'), '<img src=y onerror="window.__xss=4">');
    assert.equal(await text(run, 'serving-runtime'), '<b>ann-serving</b>');
    assert.ok((await text(run, 'step-error'))?.endsWith(`(REGISTRY.REJECTED): ${message}`));
    assert.equal(
      await run.locator('[data-testid="metrics"] .chip').textContent(),
      '<script>window.__xss=5</script> 1',
    );
    // A javascript: URL is shown, never linked.
    assert.equal(await run.locator('a[data-testid="serving-url"]').count(), 0);
    assert.equal(await text(run, 'serving-url'), 'javascript:window.__xss=3');
    assert.equal(await run.locator('img, script, b').count(), 0);
    assert.equal(await page.evaluate('typeof window.__xss'), 'undefined');
  });
});
