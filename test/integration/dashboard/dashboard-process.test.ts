/**
 * The dashboard process itself: where it listens when HOST is not set, a
 * graceful stop on SIGTERM, and what it refuses to start with.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
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

  it('listens on 127.0.0.1 when HOST is unset, says so, and ends open event streams and exits 0 on SIGTERM', async () => {
    // An empty variable counts as unset: the default applies.
    const own = await startDashboardProcess({ dataDir: dir, env: { HOST: '' } });
    const listening = own.logs.find((entry) => entry.message === 'dashboard listening');
    assert.equal(listening?.host, '127.0.0.1');
    assert.equal(listening?.access, 'this machine only (loopback)');
    // Bound to 127.0.0.1 itself, not every interface: another loopback address is refused.
    const refused = await new Promise<string>((resolve) => {
      const socket = net.connect(own.port, '127.0.0.2', () => {
        socket.destroy();
        resolve('connected');
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
    });
    assert.equal(refused, 'ECONNREFUSED');
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
    // On loopback there is nothing to warn about (read once every line is in).
    assert.deepEqual(
      own.logs.filter((entry) => entry.severity === 'WARNING'),
      [],
    );
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
