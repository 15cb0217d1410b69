/**
 * The dashboard of a store with history, in chromium: four runs of one model
 * endpoint written with the real run store at times spread over two days
 * (three go live one after the other, a rollback brings the second back, the
 * fourth is refused by the artifact-roots policy), and rejected and ignored
 * events. Checks the endpoint's charts (series, legends, point counts, and
 * that they follow new runs live), dates on every time, the connection
 * indicator's own look, "live after" of the rolled-back run, the policy
 * heading, the grouped rejections; saves test-artifacts/dashboard-charts.png.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunDocument } from '@recdeploy/shared';
import { BrowserBench, STEP_TIMEOUT_MS } from '../../support/dashboard/browser-bench.js';
import { ChainWriter, stepsToLive, walk } from '../../support/dashboard/chain-walk.js';
import { StepClock, numberedRun } from '../../support/dashboard/run-history.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
// Written where the other browser tests put theirs; docs/images/dashboard-charts.png
// is a copy of one, refreshed by hand when the page changes.
const SCREENSHOT = path.join(ROOT, 'test-artifacts/dashboard-charts.png');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const HOUR = 3_600_000;

describe('dashboard charts, dates, durations and grouped rejections (chromium)', function () {
  this.timeout(90_000);
  let bench: BrowserBench;

  before(async () => {
    bench = await BrowserBench.open();
  });
  after(() => bench?.close());
  afterEach(() => assert.deepEqual(bench.pageErrors, []));

  async function shown(run: RunDocument): Promise<void> {
    await bench.waitFor(
      `[data-testid="run"][data-run-id="${run.runId}"][data-updated-at="${run.updatedAt}"]`,
    );
  }
  const chart = (kind: string) =>
    bench.page.locator(`[data-testid="endpoint"] [data-testid="chart"][data-chart="${kind}"]`);
  const json = async (kind: string, attribute: string): Promise<unknown> =>
    JSON.parse((await chart(kind).getAttribute(attribute)) ?? 'null');

  it('charts an endpoint’s runs as they come, with dates, honest durations and headings', async () => {
    const start = Date.now() - 50 * HOUR;
    const clock = new StepClock(start);
    const fixtures = [
      numberedRun(1, { recallAt100: 0.4, loss: 0.09, p50Ms: 4.25, p99Ms: 9.75, annRecall: 0.97 }),
      numberedRun(2, { recallAt100: 0.42, loss: 0.08, p50Ms: 5, p99Ms: 11.5, annRecall: 0.96 }),
      numberedRun(3, { recallAt100: 0.45, loss: 0.07, p50Ms: 3.5, p99Ms: 8, annRecall: 0.98 }),
    ];
    // Run 1 alone: one point per figure, so the run-number charts are a short text.
    const one = await walk(stepsToLive(bench.store, fixtures[0]!, { clock: clock.read }));
    await shown(one);
    assert.equal(await chart('metrics').locator('canvas').count(), 0);
    assert.match(
      (await chart('metrics').locator('[data-testid="chart-empty"]').textContent()) ?? '',
      /^Run #1: recall_at_100 0\.4 · loss 0\.09\. The chart starts with a second run\.$/,
    );
    // The traffic chart already has a line: run 1 serving from its live time until now.
    assert.equal(await chart('traffic').locator('canvas').count(), 1);

    clock.at(start + 20 * HOUR);
    const two = await walk(stepsToLive(bench.store, fixtures[1]!, { clock: clock.read }));
    await shown(two);
    // Charted live as the second run arrived, without a reload.
    assert.deepEqual(await json('metrics', 'data-points'), [2, 2]);
    clock.at(start + 42 * HOUR);
    const three = await walk(stepsToLive(bench.store, fixtures[2]!, { clock: clock.read }));
    // Five hours later, the operator moves the traffic back to run 2: run 3 is rolled back.
    clock.at(start + 47 * HOUR);
    const chain2 = new ChainWriter(bench.store, fixtures[1]!, { clock: clock.read });
    const revision2 = fixtures[1]!.serving.revision!;
    const moved = await chain2.observe(
      {
        serviceUrl: fixtures[1]!.serviceUrl,
        liveRevision: revision2,
        targets: [{ revision: revision2, percent: 100 }],
      },
      'operator rollback to run 2',
    );
    const rolledBack = moved.find((run) => run.runId === three.runId);
    assert.equal(rolledBack?.status, 'rolled_back');
    // Run 4's artifact lies outside ARTIFACT_ROOTS: register refuses it for good.
    clock.at(Date.now() - 10 * 60_000);
    const four = new ChainWriter(
      bench.store,
      numberedRun(4, { recallAt100: 0.46, loss: 0.07, p50Ms: 0, p99Ms: 0, annRecall: 0 }),
      {
        clock: clock.read,
      },
    );
    await four.create();
    await four.claim('register');
    const refused = await four.fail(
      'register',
      {
        code: 'ARTIFACT.FORBIDDEN',
        message:
          '/home/me/models/4 is outside the configured artifact roots; this store accepts file:// ' +
          'URIs below /srv/models (configured with ARTIFACT_ROOTS, directories separated by ",")',
      },
      { permanent: true },
    );
    await shown(refused);
    assert.ok(rolledBack);
    await shown(rolledBack);

    // (a) offline metrics of all four runs; (b) verification of the three verified.
    assert.deepEqual(await json('metrics', 'data-series'), ['recall_at_100', 'loss']);
    assert.deepEqual(await json('metrics', 'data-points'), [4, 4]);
    assert.deepEqual(await json('verification', 'data-series'), [
      'latency p50 (ms)',
      'latency p99 (ms)',
      'ANN recall@10',
    ]);
    assert.deepEqual(await json('verification', 'data-points'), [3, 3, 3]);
    // (c) the three revisions that served, each in its run's status.
    const revision = (n: number) => fixtures[n - 1]!.serving.revision;
    assert.deepEqual(await json('traffic', 'data-series'), [
      `#1 ${revision(1)} (replaced)`,
      `#2 ${revision(2)} (live)`,
      `#3 ${revision(3)} (rolled back)`,
    ]);
    for (const kind of ['metrics', 'verification', 'traffic']) {
      assert.equal(await chart(kind).locator('canvas').count(), 1, kind);
      // uPlot's own legend names the same series (after the x series).
      const legend = await chart(kind).locator('.u-legend .u-series .u-label').allTextContents();
      assert.deepEqual(legend.slice(1), await json(kind, 'data-series'), kind);
    }
    assert.deepEqual(await json('verification', 'data-axes'), ['run', 'latency (ms)', 'recall']);
    assert.deepEqual(await json('traffic', 'data-axes'), [
      'time (this browser’s time zone)',
      '% of traffic',
    ]);

    // "took" stops when the run first went live, not at its rollback five hours later.
    const card3 = bench.card(three.runId);
    assert.equal(await bench.text(card3, 'run-status'), 'rolled_back');
    assert.equal(await bench.text(card3, 'run-took'), 'live after 12.0 s');
    assert.match(
      (await bench.text(card3, 'run-since')) ?? '',
      /^rolled back (today|yesterday|\d{1,2} [A-Z][a-z]{2}) \d\d:\d\d:\d\d$/,
    );
    assert.match(
      (await bench.text(bench.card(two.runId), 'run-since')) ?? '',
      /^live again since (today|yesterday|\d{1,2} [A-Z][a-z]{2}) \d\d:\d\d:\d\d$/,
    );
    assert.equal(await bench.text(bench.card(refused.runId), 'run-took'), 'failed after 4.0 s');
    // The policy refusal is headed as one, not as unreadable files.
    assert.equal(
      await bench.text(bench.card(refused.runId), 'run-problem-headline'),
      'Failed at register: Refused by policy: the model files are outside the allowed ' +
        'artifact roots (ARTIFACT_ROOTS)',
    );

    // Every time carries its date; the full ISO time is its datetime and title.
    const created = new Date(one.createdAt);
    const pad = (n: number) => String(n).padStart(2, '0');
    const card1 = bench.card(one.runId);
    await card1.locator(':scope > summary').click();
    const createdAt = card1.locator(`time[datetime="${one.createdAt}"]`).first();
    assert.equal(
      await createdAt.textContent(),
      `${created.getDate()} ${MONTHS[created.getMonth()]} ` +
        `${pad(created.getHours())}:${pad(created.getMinutes())}:${pad(created.getSeconds())}`,
    );
    assert.equal(await createdAt.getAttribute('title'), one.createdAt);
    const recent = bench.card(refused.runId).locator(':scope > summary time');
    assert.match((await recent.textContent()) ?? '', /^(today|yesterday) \d\d:\d\d:\d\d$/);

    // The connection indicator: a dot and a sentence with a role, not a status badge.
    const connection = bench.page.locator('[data-testid="connection"]');
    assert.equal(await connection.getAttribute('role'), 'status');
    assert.match((await connection.textContent()) ?? '', /^\s*connected\s+· updated \d+ s ago\s*$/);
    assert.equal(await connection.locator('.conn-dot').count(), 1);
    // An expression, evaluated in the page (the tests are compiled without the DOM's types).
    const look = (selector: string) =>
      bench.page.evaluate<string[]>(
        `(() => { const style = getComputedStyle(document.querySelector('${selector}'));
          return [style.backgroundColor, style.borderRadius]; })()`,
      );
    const [indicatorBackground] = await look('[data-testid="connection"]');
    const [badgeBackground, badgeRadius] = await look('[data-testid="run-status"]');
    assert.equal(indicatorBackground, 'rgba(0, 0, 0, 0)');
    assert.notEqual(badgeBackground, 'rgba(0, 0, 0, 0)');
    assert.notEqual(badgeRadius, '0px');
  });

  it('groups rejected events by what arrived and lists ignored ones apart', async () => {
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
    const audit = (id: number, minutesAgo: number) =>
      bench.store.recordRejectedEvent({
        eventId: `audit-${id}`,
        code: 'EVENT.INVALID',
        kind: 'Cloud Audit Log entry',
        reason: `a Cloud Audit Log entry (${id}) is not a training-completed message`,
        receivedAt: at(minutesAgo),
      });
    await audit(1, 30);
    await audit(2, 20);
    await audit(3, 5);
    await bench.store.recordRejectedEvent({
      eventId: 'get-1',
      code: 'EVENT.INVALID',
      kind: 'HTTP GET',
      reason: 'an HTTP GET carries no event',
      receivedAt: at(10),
    });
    for (const id of [1, 2]) {
      await bench.store.recordRejectedEvent({
        eventId: `failed-job-${id}`,
        code: 'EVENT.IGNORED',
        kind: 'Vertex PipelineJob in state FAILED',
        reason: 'the pipeline job failed: nothing to deploy',
        receivedAt: at(15 + id),
      });
    }
    // Rejected events are read with the state, when the page (re)connects.
    await bench.page.reload();
    await bench.page.locator('[data-testid="rejected-group"]').first().waitFor({
      timeout: STEP_TIMEOUT_MS,
    });
    const groups = bench.page.locator('[data-testid="rejected-group"]');
    assert.deepEqual(
      await bench.page.evaluate<string[]>(
        `[...document.querySelectorAll('[data-testid="rejected-group"]')].map((el) => el.dataset.kind)`,
      ),
      ['Cloud Audit Log entry', 'HTTP GET'],
    );
    const auditGroup = groups.first();
    assert.equal(await auditGroup.getAttribute('data-count'), '3');
    assert.equal(await bench.text(auditGroup, 'group-count'), '3 events');
    assert.equal(
      await bench.text(auditGroup, 'group-reason'),
      'a Cloud Audit Log entry (3) is not a training-completed message',
    );
    assert.equal(
      await auditGroup.locator('[data-testid="rejected-event"]').first().isVisible(),
      false,
    );
    await auditGroup.locator('summary').click();
    assert.deepEqual(
      await bench.page.evaluate<string[]>(
        `[...document.querySelectorAll('[data-testid="rejected-group"] [data-testid="rejected-event"]')]
          .filter((row) => row.checkVisibility()).map((row) => row.dataset.eventId)`,
      ),
      ['audit-3', 'audit-2', 'audit-1'],
    );
    const ignored = bench.page.locator('[data-testid="ignored-group"]');
    assert.equal(await ignored.count(), 1);
    assert.equal(await ignored.getAttribute('data-kind'), 'Vertex PipelineJob in state FAILED');
    assert.equal(await ignored.getAttribute('data-count'), '2');
    assert.equal(await bench.page.locator('[data-testid="ignored"]').isVisible(), true);

    // The picture the docs show: the charts over the endpoint's runs.
    // Scrolled to the endpoint's heading, just below the sticky top bar.
    await bench.page.evaluate(`window.scrollTo(0,
      document.querySelector('[data-testid="endpoint"]').getBoundingClientRect().top + window.scrollY
      - document.querySelector('header.top').offsetHeight - 8)`);
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await bench.page.screenshot({ path: SCREENSHOT });
    const size = fs.statSync(SCREENSHOT).size;
    assert.ok(size > 10_000 && size < 300_000, `the screenshot is ${size} bytes`);
  });
});
