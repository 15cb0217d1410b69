/** The dashboard process itself: a graceful stop on SIGTERM, and what it refuses to start with. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  runDashboardUntilExit,
  startDashboardProcess,
} from '../../support/dashboard/dashboard-process.js';
import { openEventStream } from '../../support/dashboard/sse-client.js';

describe('dashboard process', function () {
  this.timeout(60_000);
  let dir = '';

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-dashboard-process-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('ends open event streams and exits 0 on SIGTERM', async () => {
    const own = await startDashboardProcess({ dataDir: dir });
    const stream = await openEventStream(new URL('/api/events', own.url).href);
    await stream.next('ready');
    const exit = await own.stop('SIGTERM');
    await stream.ended;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.deepEqual(own.logs.map((entry) => entry.message).slice(-2), [
      'signal received',
      'dashboard stopped',
    ]);
    assert.equal(own.logs.at(-1)?.drained, true);
  });

  it('exits 2 naming every invalid variable', async () => {
    const result = await runDashboardUntilExit({
      RECDEPLOY_DATA_DIR: dir,
      PORT: 'eighty',
      RECDEPLOY_BACKEND: 'gcp',
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /GOOGLE_CLOUD_PROJECT is required when RECDEPLOY_BACKEND=gcp/);
    assert.match(result.stderr, /PORT="eighty" is invalid/);
  });
});
