/**
 * The dashboard of a real local stack, in chromium: the stack starts without
 * deploying (`start --no-sample`), the page opens, then a training-completed
 * event for the sample model is published on the stack's bus, and the page
 * follows the run through the real chain to live without a reload; what it
 * shows is checked against the run document. Saves the screenshot the README
 * shows (test-artifacts/dashboard-stack.png).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Locator } from 'playwright-core';
import { runKey } from '@recdeploy/shared';
import { trainSampleModel } from '@recdeploy/shared/ann';
import { LocalEventBus, SqliteRunStore } from '@recdeploy/shared/local';
import { SAMPLE_RUN, initialSampleMessage } from '../../../cli/src/stack/local-stack.js';
import { launchChromium } from '../../support/dashboard/chromium.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = path.join(ROOT, 'cli/bin/recdeploy.js');
const SCREENSHOT = path.join(ROOT, 'test-artifacts/dashboard-stack.png');

describe('the local stack’s dashboard in chromium, following a real run to live', function () {
  this.timeout(180_000);
  let dataDir: string;
  let stack: ChildProcessByStdio<null, Readable, Readable>;
  let browser: Browser;
  let stderr = '';

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'recdeploy-stack-browser-'));
    await trainSampleModel({ out: path.join(dataDir, 'models/sample'), products: 300, seed: 3 });
    stack = spawn(process.execPath, [BIN, 'start', '--data-dir', dataDir, '--no-sample'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    stack.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    if (stack && stack.exitCode === null) {
      const exited = new Promise((resolve) => stack.once('exit', resolve));
      stack.kill('SIGINT');
      await exited;
    }
    await rm(dataDir, { recursive: true, force: true });
  });

  it('shows the run’s steps as they happen and, at the end, what the run document says', async () => {
    const dashboardUrl = await waitFor(
      () => /dashboard: (\S+)/.exec(stderr)?.[1],
      60_000,
      () => stderr,
    );
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(dashboardUrl);
    await page.locator('[data-testid="connection"][data-state="open"]').waitFor();
    await page.evaluate('window.__sameDocument = "yes"');
    // Every status the page shows for any run, in order, as the DOM changes.
    await page.evaluate(`
      window.__seen = [];
      new MutationObserver(() => {
        for (const el of document.querySelectorAll('[data-testid="run"]')) {
          const status = el.getAttribute('data-status');
          if (window.__seen.at(-1) !== status) window.__seen.push(status);
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true });
    `);

    const bus = new LocalEventBus({ file: path.join(dataDir, 'bus.db') });
    try {
      await bus.publish('training-completed', {
        data: initialSampleMessage(pathToFileURL(path.join(dataDir, 'models/sample')).href),
      });
    } finally {
      await bus.close();
    }
    const runId = runKey(SAMPLE_RUN);
    const card = page.locator(`[data-testid="run"][data-run-id="${runId}"]`);
    await card.waitFor({ timeout: 30_000 });
    await page.locator(`[data-testid="run"][data-run-id="${runId}"][data-status="live"]`).waitFor({
      timeout: 90_000,
    });
    assert.equal(await page.evaluate('window.__sameDocument'), 'yes', 'the page was not reloaded');
    const seen = await page.evaluate<string[]>('window.__seen');
    assert.equal(seen.at(-1), 'live');
    assert.ok(seen.length >= 3, `the page showed the run only as ${seen.join(' → ')}`);

    const store = new SqliteRunStore({ file: path.join(dataDir, 'runs.db') });
    const run = await store.getRun(runId);
    await store.close();
    assert.equal(run?.status, 'live');
    if ((await card.getAttribute('open')) === null) await card.locator(':scope > summary').click();
    const text = await card.innerText();
    assert.match(text, new RegExp(run.serving!.revision!));
    assert.ok(text.includes(run.serving!.runtimeReason!), 'the runtime reason is shown');
    for (const check of run.verification!.checks) assert.ok(text.includes(check.name), check.name);
    const live = await page.locator('[data-testid="live-revisions"]').innerText();
    assert.ok(live.includes(run.serving!.revision!), live);
    // The endpoint's charts: one run is too few for the by-run ones, its revision serves 100%.
    const chart = (kind: string) =>
      page.locator(`[data-testid="chart"][data-chart="${kind}"]`).first();
    assert.match(
      (await chart('metrics').locator('[data-testid="chart-empty"]').textContent()) ?? '',
      /^Run #\d+: .+\. The chart starts with a second run\.$/,
    );
    assert.deepEqual(JSON.parse((await chart('traffic').getAttribute('data-series')) ?? '[]'), [
      `#${run.runNumber} ${run.serving!.revision!} (live)`,
    ]);
    assert.equal(await chart('traffic').locator('canvas').count(), 1);
    assert.match(await textOf(card, 'run-took'), /^live after \d/);
    assert.match(
      (await page.locator('[data-testid="connection"]').textContent()) ?? '',
      /connected\s+· updated \d+ s ago/,
    );
    assert.deepEqual(errors, []);
    await page.screenshot({ path: SCREENSHOT, fullPage: false });
  });
});

async function textOf(scope: Locator, testid: string): Promise<string> {
  return (await scope.locator(`[data-testid="${testid}"]`).first().textContent()) ?? '';
}

async function waitFor<T>(
  probe: () => T | undefined,
  timeoutMs: number,
  context: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out:\n${context()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
