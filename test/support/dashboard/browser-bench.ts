/**
 * The dashboard as a person sees it: a real dashboard process over a SQLite
 * run store in a fresh directory, opened in chromium (playwright-core), with
 * the chain's writes made through a second store handle. Script errors and
 * blocked resources (CSP) are collected in `pageErrors` for a test to assert.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import type { RunDocument } from '@recdeploy/shared';
import { SqliteRunStore } from '@recdeploy/shared/local';
import { localDataFiles } from '@recdeploy/shared/wiring';
import type { ChainStep } from './chain-writer.js';
import { launchChromium } from './chromium.js';
import { startDashboardProcess, type DashboardProcess } from './dashboard-process.js';

/** A laptop screen: the page must fit it. */
export const LAPTOP = { width: 1366, height: 768 };
/** How long the page may take to show one write. */
export const STEP_TIMEOUT_MS = 5_000;

export class BrowserBench {
  readonly pageErrors: string[] = [];

  private constructor(
    private readonly dir: string,
    readonly store: SqliteRunStore,
    readonly dashboard: DashboardProcess,
    readonly browser: Browser,
    readonly page: Page,
  ) {
    page.on('pageerror', (error) => this.pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') this.pageErrors.push(message.text());
    });
  }

  /** Opens the page on an empty store and waits until it is connected. */
  static async open(): Promise<BrowserBench> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-dashboard-browser-'));
    const store = new SqliteRunStore({ file: localDataFiles(dir).runStore });
    const [dashboard, browser] = await Promise.all([
      startDashboardProcess({ dataDir: dir }),
      launchChromium(),
    ]);
    const page = await browser.newPage({ viewport: LAPTOP });
    const bench = new BrowserBench(dir, store, dashboard, browser, page);
    await page.goto(dashboard.url);
    await page.locator('[data-testid="connection"][data-state="open"]').waitFor();
    await page.locator('[data-testid="runs-empty"]').waitFor();
    // Survives only if the page is never reloaded.
    await page.evaluate('window.__sameDocument = "yes"');
    return bench;
  }

  async close(): Promise<void> {
    await this.browser.close();
    await this.dashboard.stop();
    await this.store.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** True while the page was never reloaded (everything came by live updates). */
  async sameDocument(): Promise<boolean> {
    return (await this.page.evaluate('window.__sameDocument')) === 'yes';
  }

  card(runId: string): Locator {
    return this.page.locator(`[data-testid="run"][data-run-id="${runId}"]`);
  }

  text(scope: Locator, testid: string): Promise<string | null> {
    return scope.locator(`[data-testid="${testid}"]`).first().textContent();
  }

  /** Waits until `selector` is on the page. */
  async waitFor(selector: string): Promise<void> {
    await this.page.locator(selector).waitFor({ timeout: STEP_TIMEOUT_MS });
  }

  /** Writes each step, then waits for the page to show it and checks it against the document. */
  async walkWatching(steps: readonly ChainStep[]): Promise<RunDocument> {
    let doc: RunDocument | undefined;
    for (const step of steps) {
      doc = await step.write();
      assert.equal(doc.status, step.status);
      const run = this.card(doc.runId);
      // The page shows exactly this version of the run (every write stamps updatedAt).
      await this.waitFor(
        `[data-testid="run"][data-run-id="${doc.runId}"][data-updated-at="${doc.updatedAt}"]`,
      );
      assert.equal(await this.text(run, 'run-status'), step.status);
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
}
