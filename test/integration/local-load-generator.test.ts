/**
 * The stack tests' load generator (test/support/stack/load-generator.ts)
 * against a small HTTP server on loopback that counts what it receives and
 * answers like a router would (a revision header, some 5xx).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startLoad, type LoadReport } from '../support/stack/load-generator.js';

interface Stub {
  readonly url: string;
  /** Requests received, in order, with their bodies. */
  readonly received: string[];
  /** Most requests open at once. */
  maxOpen: number;
  /** Answers by revision and status, as sent. */
  readonly answered: Record<string, Record<number, number>>;
  close(): Promise<void>;
}

/** How the stub answers its request number `index`: a status (after a delay), or never. */
type Behaviour = (
  index: number,
) => { status: number; revision?: string; delayMs?: number } | 'hang';

async function stub(behaviour: Behaviour): Promise<Stub> {
  let open = 0;
  const state = { received: [] as string[], maxOpen: 0, answered: {} as Stub['answered'] };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const index = state.received.push(Buffer.concat(chunks).toString('utf8')) - 1;
      open += 1;
      state.maxOpen = Math.max(state.maxOpen, open);
      response.once('close', () => (open -= 1));
      const answer = behaviour(index);
      if (answer === 'hang') return;
      const { status, revision, delayMs = 0 } = answer;
      const byStatus = (state.answered[revision ?? ''] ??= {});
      byStatus[status] = (byStatus[status] ?? 0) + 1;
      setTimeout(() => {
        response.writeHead(
          status,
          revision === undefined ? {} : { 'x-recdeploy-revision': revision },
        );
        response.end('{}');
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}/v1/models/recs:predict`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

function total(report: LoadReport): number {
  return Object.values(report.byStatus).reduce((sum, n) => sum + n, 0);
}

describe('load generator (open loop, loopback)', function () {
  this.timeout(30_000);
  const stubs: Stub[] = [];
  afterEach(async () => {
    await Promise.all(stubs.splice(0).map((s) => s.close()));
  });

  it('sends rate × duration requests and counts answers by status and by revision header', async () => {
    const server = await stub((i) => ({
      status: i % 8 === 0 ? 500 : 200,
      revision: i % 4 === 0 ? 'recs-canary' : 'recs-stable',
    }));
    stubs.push(server);
    const report = await startLoad({
      url: server.url,
      body: '{"instances":[]}',
      ratePerSecond: 200,
      durationMs: 1_000,
      timeoutMs: 5_000,
    }).done;
    assert.equal(report.sent, 200);
    assert.equal(report.skipped, 0);
    assert.equal(server.received.length, 200);
    assert.deepEqual(new Set(server.received), new Set(['{"instances":[]}']));
    assert.deepEqual(report.byStatus, { 200: 175, 500: 25 });
    assert.deepEqual(server.answered, {
      'recs-canary': { 200: 25, 500: 25 },
      'recs-stable': { 200: 150 },
    });
    assert.deepEqual(report.byRevision, {
      'recs-canary': { requests: 50, failed: 25 },
      'recs-stable': { requests: 150, failed: 0 },
    });
  });

  it('keeps sending on schedule while answers are slow (open loop)', async () => {
    const server = await stub(() => ({ status: 200, delayMs: 300 }));
    stubs.push(server);
    const report = await startLoad({
      url: server.url,
      ratePerSecond: 50,
      durationMs: 1_000,
      timeoutMs: 10_000,
    }).done;
    assert.equal(report.sent, 50);
    assert.deepEqual(report.byStatus, { 200: 50 });
    assert.ok(server.maxOpen > 5, `requests overlapped (at most ${server.maxOpen} open at once)`);
    assert.deepEqual(report.byRevision, {}, 'no revision header, no revision');
  });

  it('caps requests in flight, skipping what falls due meanwhile, and times out the stuck ones', async () => {
    const server = await stub(() => 'hang');
    stubs.push(server);
    const report = await startLoad({
      url: server.url,
      ratePerSecond: 100,
      durationMs: 500,
      timeoutMs: 3_000,
      maxInFlight: 5,
    }).done;
    assert.equal(report.sent, 5);
    assert.equal(report.skipped, 45);
    assert.deepEqual(report.byStatus, { timeout: 5 });
    assert.equal(server.received.length, 5);
  });

  it('stop() ends the schedule early; every request sent is accounted for', async () => {
    let answered = 0;
    let stop: () => void = () => undefined;
    const server = await stub(() => {
      if (++answered === 10) stop();
      return { status: 200 };
    });
    stubs.push(server);
    const load = startLoad({
      url: server.url,
      ratePerSecond: 100,
      durationMs: 60_000,
      timeoutMs: 5_000,
    });
    stop = () => load.stop();
    const report = await load.done;
    assert.ok(report.sent >= 10 && report.sent < 6_000, `sent ${report.sent}`);
    assert.equal(total(report), report.sent);
    assert.equal(server.received.length, report.sent);
  });

  it('counts a refused connection as network-error', async () => {
    const server = await stub(() => ({ status: 200 }));
    await server.close(); // nothing listens on its port any more
    const report = await startLoad({
      url: server.url,
      ratePerSecond: 50,
      durationMs: 200,
      timeoutMs: 5_000,
    }).done;
    assert.deepEqual(report, {
      sent: 10,
      skipped: 0,
      byStatus: { 'network-error': 10 },
      byRevision: {},
    });
  });
});
