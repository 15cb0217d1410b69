/**
 * The simulator's startup probe against a real loopback server: an httpGet
 * probe passes on 2xx/3xx and gives up after failureThreshold tries; without
 * an httpGet it is Cloud Run's default TCP probe.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runStartupProbe } from '../../support/rehearsal/startup-probe.js';
import { freePort } from '../../support/loopback-ports.js';

describe('rehearsal startup probe', () => {
  let server: http.Server;
  let port = 0;
  let status = 503;
  let tries = 0;
  const fast = { periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 3 };

  before(async () => {
    server = http.createServer((_request, response) => {
      tries += 1;
      response.writeHead(status).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => (tries = 0));

  const probe = (httpGet: { path: string } | undefined, onPort = port) =>
    runStartupProbe({
      probe: httpGet ? { ...fast, httpGet } : undefined,
      port: onPort,
      scale: 0.1,
      alive: () => true,
    });

  it('passes on a 200 at the probe path', async () => {
    status = 200;
    assert.equal(await probe({ path: '/v1/models/shop' }), true);
    assert.ok(tries >= 1, 'it asked the server');
  });

  it('fails after failureThreshold tries that answer 503', async () => {
    status = 503;
    assert.equal(await probe({ path: '/v1/models/shop' }), false);
    assert.equal(tries, 3);
  });

  it('without httpGet, connects over TCP: passes where something listens, fails where nothing does', async () => {
    assert.equal(await probe(undefined), true);
    assert.equal(await probe(undefined, await freePort()), false);
  });
});
