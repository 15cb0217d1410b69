/**
 * The local stack's dashboard keeps its URL (cli/src/stack/dashboard-process.ts),
 * with real sockets and real dashboard processes: a second start over the same
 * data directory reuses the port the first one used; a remembered port that
 * is taken falls back to a free one and says so; an explicitly wanted port
 * that is taken is an error naming it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  DASHBOARD_PORT_FILE,
  chooseDashboardPort,
  rememberedPort,
  startDashboardProcess,
} from '../../../cli/src/stack/dashboard-process.js';

describe('the stack’s dashboard port', function () {
  this.timeout(90_000);
  let dir = '';
  let holder: net.Server | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-dashboard-port-'));
  });
  afterEach(async () => {
    await new Promise<void>((resolve) => (holder ? holder.close(() => resolve()) : resolve()));
    holder = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Listens on a free loopback port, as something else on the machine would. */
  async function takeAPort(): Promise<number> {
    holder = net.createServer();
    const server = holder;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return (server.address() as net.AddressInfo).port;
  }

  it('reuses the port this data directory used last', async () => {
    // Any free port the first time (so a dashboard already on the default port cannot interfere).
    const first = await startDashboardProcess({ dataDir: dir, port: 0, logLevel: 'warn' });
    await first.stop();
    assert.equal(rememberedPort(dir), first.port);
    assert.equal(fs.readFileSync(path.join(dir, DASHBOARD_PORT_FILE), 'utf8'), `${first.port}\n`);

    const second = await startDashboardProcess({ dataDir: dir, logLevel: 'warn' });
    try {
      assert.equal(second.port, first.port);
      assert.equal(second.url, first.url);
      assert.equal(second.fallbackFrom, undefined);
      assert.equal((await fetch(new URL('/healthz', second.url))).status, 200);
    } finally {
      await second.stop();
    }
  });

  it('falls back to a free port when the remembered one is taken, and says so', async () => {
    const taken = await takeAPort();
    fs.writeFileSync(path.join(dir, DASHBOARD_PORT_FILE), `${taken}\n`);
    const dashboard = await startDashboardProcess({ dataDir: dir, logLevel: 'warn' });
    try {
      assert.equal(dashboard.fallbackFrom, taken);
      assert.notEqual(dashboard.port, taken);
      assert.equal(dashboard.url, `http://127.0.0.1:${dashboard.port}/`);
      assert.equal((await fetch(new URL('/healthz', dashboard.url))).status, 200);
      // The port it got is the one remembered now.
      assert.equal(rememberedPort(dir), dashboard.port);
    } finally {
      await dashboard.stop();
    }
  });

  it('refuses an explicitly wanted port that is taken, naming it', async () => {
    const taken = await takeAPort();
    await assert.rejects(
      startDashboardProcess({ dataDir: dir, port: taken, logLevel: 'warn' }),
      new RegExp(`dashboard port ${taken} is already in use`),
    );
    assert.equal(rememberedPort(dir), undefined);
  });

  it('chooses the default port with nothing remembered, 0 when asked, and ignores a bad file', async () => {
    fs.writeFileSync(path.join(dir, DASHBOARD_PORT_FILE), 'not a port\n');
    const choice = await chooseDashboardPort(dir, undefined);
    // The default, unless something on this machine holds it (then a fallback naming it).
    if (choice.fallbackFrom === undefined)
      assert.deepEqual(choice, { port: 7311, explicit: false });
    else assert.deepEqual(choice, { port: 0, explicit: false, fallbackFrom: 7311 });
    assert.deepEqual(await chooseDashboardPort(dir, 0), { port: 0, explicit: true });
    await assert.rejects(chooseDashboardPort(dir, 70_000), /from 0 to 65535, got 70000/);
  });
});
