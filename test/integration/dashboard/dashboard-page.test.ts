/**
 * The page and its assets as the dashboard serves them (a real process): a
 * fresh CSP nonce on every answer, on the script module and each stylesheet;
 * every module main.js imports served from the dashboard itself with its
 * type; no other file reachable under /assets/. That the page then runs
 * under this policy is the browser tests' part (no CSP violation there).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  startDashboardProcess,
  type DashboardProcess,
} from '../../support/dashboard/dashboard-process.js';

describe('dashboard page and assets (a real process)', function () {
  this.timeout(60_000);
  let dir = '';
  let dashboard: DashboardProcess;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-dashboard-page-'));
    dashboard = await startDashboardProcess({ dataDir: dir });
  });
  after(async () => {
    await dashboard?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function get(pathname: string): Promise<Response> {
    return fetch(new URL(pathname, dashboard.url));
  }

  it('serves the page with a fresh CSP nonce on its script module and stylesheets', async () => {
    const first = await get('/');
    const second = await get('/');
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('content-type'), 'text/html; charset=utf-8');
    const csp = first.headers.get('content-security-policy') ?? '';
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
    assert.ok(nonce, csp);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'self'/);
    const html = await first.text();
    assert.ok(html.includes(`<script type="module" nonce="${nonce}" src="assets/main.js">`));
    const links = html.match(/<link rel="stylesheet"[^>]*>/g) ?? [];
    assert.equal(links.length, 5);
    for (const tag of links) assert.ok(tag.includes(`nonce="${nonce}"`), tag);
    assert.ok(!html.includes('{{nonce}}'));
    assert.notEqual(second.headers.get('content-security-policy'), csp);
    assert.equal(first.headers.get('x-content-type-options'), 'nosniff');
  });

  it('serves its own assets, every module main.js imports, and nothing else', async () => {
    const seen = new Set<string>();
    const pending = ['main.js'];
    for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
      if (seen.has(name)) continue;
      seen.add(name);
      const response = await get(`/assets/${name}`);
      assert.equal(response.status, 200, name);
      assert.equal(response.headers.get('content-type'), 'text/javascript; charset=utf-8');
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      const source = await response.text();
      for (const [, imported = ''] of source.matchAll(/^import .* from '\.\/([^']+)';$/gm)) {
        pending.push(imported);
      }
    }
    assert.ok(seen.has('canary-panel.js') && seen.has('dom.js'), [...seen].join(', '));
    // The chart library comes from the installed uplot package, served by the dashboard itself.
    assert.ok(seen.has('uPlot.esm.js'), [...seen].join(', '));
    const uplotCss = await get('/assets/uPlot.min.css');
    assert.equal(uplotCss.status, 200);
    assert.match(await uplotCss.text(), /\.uplot/);
    const css = await get('/assets/canary.css');
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
    assert.match(await css.text(), /\.tone-canary/);
    for (const pathname of ['/assets/nope.js', '/assets/..%2Fpackage.json', '/assets/']) {
      const response = await get(pathname);
      assert.equal(response.status, 404, pathname);
    }
  });
});
