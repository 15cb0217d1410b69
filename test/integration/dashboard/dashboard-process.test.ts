/**
 * The dashboard process itself, started alone with its defaults: where it
 * listens when HOST is not set, what it refuses on the wire (HTTP/0.9), a
 * graceful stop on SIGTERM; and what it refuses to start with.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  runDashboardUntilExit,
  startDashboardProcess,
  type DashboardProcess,
} from '../../support/dashboard/dashboard-process.js';
import { openEventStream } from '../../support/dashboard/sse-client.js';

describe('dashboard process', function () {
  this.timeout(60_000);
  let dir = '';

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-dashboard-process-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('started alone with its defaults (one process, stopped by the last test)', () => {
    let own: DashboardProcess;

    before(async () => {
      // An empty variable counts as unset: HOST takes its default.
      own = await startDashboardProcess({ dataDir: dir, env: { HOST: '' } });
    });
    after(async () => {
      await own?.stop('SIGKILL');
    });

    /** Writes `raw` (then ends, with `end`) and reads until the server closes the connection. */
    function exchange(raw: string, end = false): Promise<string> {
      return new Promise((resolve, reject) => {
        // Without `end` the client keeps its side open: the server must close.
        const socket = net.connect(own.port, '127.0.0.1', () =>
          end ? socket.end(raw) : socket.write(raw),
        );
        let answer = '';
        socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
        socket.setTimeout(10_000, () => {
          socket.destroy(new Error(`the connection stayed open after ${JSON.stringify(raw)}`));
        });
        socket.once('error', reject);
        socket.once('close', () => resolve(answer));
      });
    }

    it('listens on 127.0.0.1 when HOST is unset, and its listening line says so', async () => {
      const listening = own.logs.find((entry) => entry.message === 'dashboard listening');
      assert.equal(listening?.host, '127.0.0.1');
      assert.equal(listening?.access, 'this machine only (loopback)');
      // Bound to 127.0.0.1 itself, not every interface: another loopback address is refused.
      const refused = await new Promise<string>((resolve) => {
        const socket = net.connect(own.port, '127.0.0.2', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.once('error', (error: NodeJS.ErrnoException) =>
          resolve(error.code ?? String(error)),
        );
      });
      assert.equal(refused, 'ECONNREFUSED');
    });

    it('refuses a request line without an HTTP version (HTTP/0.9) with 400 and closes, never the page', async () => {
      const noVersion = await exchange('GET /\r\n\r\n');
      assert.match(noVersion, /^HTTP\/1\.1 400 Bad Request\r\n[^]*\r\nConnection: close\r\n/i);
      const error = 'the request line has no HTTP version (HTTP/0.9 is not served): send HTTP/1.1';
      assert.ok(noVersion.endsWith(JSON.stringify({ error })), noVersion);
      const statuses = async (raw: string, end = false): Promise<string[] | null> =>
        (await exchange(raw, end)).match(/HTTP\/1\.1 \d{3}/g);
      assert.deepEqual(await statuses('GET / HTTP/0.9\r\n\r\n'), ['HTTP/1.1 400']);
      assert.deepEqual(await statuses('GET /api/events HTTP/2.0\r\n\r\n'), ['HTTP/1.1 505']);
      // Half a request line, then the end: Node's own parser answers 400.
      assert.deepEqual(await statuses('GET /\r\n', true), ['HTTP/1.1 400']);
      // After an HTTP/1.1 request on the same connection, too; never the page.
      const pipelined = await exchange('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /\r\n\r\n');
      assert.deepEqual(pipelined.match(/HTTP\/1\.1 \d{3}/g), ['HTTP/1.1 200', 'HTTP/1.1 400']);
      for (const answer of [noVersion, pipelined]) assert.doesNotMatch(answer, /<html/i);
    });

    it('ends open event streams and exits 0 on SIGTERM', async () => {
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
