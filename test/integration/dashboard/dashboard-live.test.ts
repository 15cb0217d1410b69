/**
 * The dashboard's event stream as a real process serves it over a SQLite run
 * store written by another handle: every run change in commit order, and a
 * serving record after a run change that moved it (once per change, however
 * many runs it moved), then heartbeats; and its per-client stream limit.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { RunDocument, RunStatus, ServingRecord } from '@recdeploy/shared';
import { SqliteRunStore } from '@recdeploy/shared/local';
import { localDataFiles } from '@recdeploy/shared/wiring';
import {
  startDashboardProcess,
  type DashboardProcess,
} from '../../support/dashboard/dashboard-process.js';
import { sampleRunFixture, stepsToLive, walk } from '../../support/dashboard/chain-walk.js';
import { openEventStream } from '../../support/dashboard/sse-client.js';

const CHAIN: RunStatus[] = [
  'received',
  'registering',
  'registered',
  'deploying',
  'deployed',
  'verifying',
  'live',
];

describe('dashboard live updates (a real process over a SQLite run store)', function () {
  this.timeout(60_000);
  let dir = '';
  let store: SqliteRunStore;
  let dashboard: DashboardProcess;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-dashboard-live-'));
    store = new SqliteRunStore({ file: localDataFiles(dir).runStore });
    dashboard = await startDashboardProcess({
      dataDir: dir,
      env: { HEARTBEAT_INTERVAL_MS: '100' },
    });
  });
  after(async () => {
    await dashboard?.stop();
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('streams every change committed by another process after connecting, then heartbeats', async () => {
    const stream = await openEventStream(new URL('/api/events', dashboard.url).href);
    try {
      assert.equal(stream.status, 200);
      assert.equal(stream.headers['content-type'], 'text/event-stream; charset=utf-8');
      assert.equal(stream.headers['cache-control'], 'no-store');
      assert.deepEqual(JSON.parse((await stream.next('ready')).data), {
        heartbeatIntervalMs: 100,
      });

      const fixture = sampleRunFixture({ modelEndpointId: 'recs-sse' }, '5e5e5e5e');
      const written: RunDocument[] = [];
      for (const step of stepsToLive(store, fixture)) written.push(await step.write());
      const received: RunDocument[] = [];
      while (received.length < CHAIN.length) {
        received.push(JSON.parse((await stream.next('run')).data) as RunDocument);
      }
      // Every version, in commit order, each exactly as the writer's store returned it.
      assert.deepEqual(
        received.map((run) => run.status),
        CHAIN,
      );
      assert.deepEqual(received, written);

      // The run went live in the same write that recorded its service's serving record.
      const serving = JSON.parse((await stream.next('serving')).data) as ServingRecord;
      assert.deepEqual(serving, await store.getServingRecord('rec-recs-sse'));
      assert.equal(serving.liveRunId, written.at(-1)?.runId);

      const heartbeat = JSON.parse((await stream.next('heartbeat')).data) as { at: string };
      assert.ok(Date.now() - Date.parse(heartbeat.at) < 5_000, heartbeat.at);
    } finally {
      stream.close();
    }
  });

  it('a newer run taking over: both runs, then the serving record once', async () => {
    const older = sampleRunFixture({ modelEndpointId: 'recs-take' }, '7a7a7a7a');
    await walk(stepsToLive(store, older));
    const stream = await openEventStream(new URL('/api/events', dashboard.url).href);
    try {
      await stream.next('ready');
      const newer = sampleRunFixture(
        { modelEndpointId: 'recs-take', trainingRunId: 'train-002', runNumber: 2 },
        '8b8b8b8b',
      );
      const live = await walk(stepsToLive(store, newer));
      const record = await store.getServingRecord('rec-recs-take');
      assert.equal(record?.liveRunId, live.runId);
      const serving = JSON.parse((await stream.next('serving')).data) as ServingRecord;
      assert.deepEqual(serving, record);
      const runs = stream.seen
        .filter((event) => event.event === 'run')
        .map((event) => JSON.parse(event.data) as RunDocument);
      const replaced = runs.find((run) => run.runId === 'recs-take-train-001');
      assert.equal(replaced?.status, 'replaced');
      assert.equal(replaced?.replacedBy, live.runId);
      // Both runs changed in that write; the record went out once, not once per run.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(stream.seen.filter((event) => event.event === 'serving').length, 1);
    } finally {
      stream.close();
    }
  });

  it('holds at most 4 streams per client address: the 5th gets 429, another client still gets one, a closed one frees its slot', async () => {
    // Addresses no other test here uses: their closed streams may still be counted a moment.
    const mine = await Promise.all([1, 2, 3, 4].map(() => openFrom('127.0.0.3')));
    const opened = [...mine];
    try {
      assert.deepEqual(
        mine.map((stream) => stream.status),
        [200, 200, 200, 200],
      );
      // X-Forwarded-For is not trusted by default (TRUST_PROXY=0): it changes nothing.
      const refused = await openFrom('127.0.0.3', { 'X-Forwarded-For': '198.51.100.7' });
      opened.push(refused);
      assert.equal(refused.status, 429);
      assert.equal(refused.headers['retry-after'], '5');
      assert.deepEqual(JSON.parse(await refused.body), {
        error:
          'too many open event streams from 127.0.0.3: 4 open, at most 4 per client ' +
          '(MAX_EVENT_STREAMS_PER_CLIENT); close another dashboard tab',
      });
      const other = await openFrom('127.0.0.4');
      opened.push(other);
      assert.equal(other.status, 200);

      // A page whose connection went away reconnects: once the server has seen
      // the socket close (promptly, but on its own schedule), the slot is free.
      mine.shift()?.close();
      const deadline = Date.now() + 10_000;
      let again = await openFrom('127.0.0.3');
      while (again.status === 429 && Date.now() < deadline) {
        again.close();
        await new Promise((resolve) => setTimeout(resolve, 50));
        again = await openFrom('127.0.0.3');
      }
      opened.push(again);
      assert.equal(again.status, 200);
    } finally {
      for (const stream of opened) stream.close();
    }
  });

  /** GET /api/events on a connection of its own from `localAddress` (Linux routes all of 127/8 to loopback). */
  function openFrom(
    localAddress: string,
    headers: Record<string, string> = {},
  ): Promise<{
    status: number;
    headers: http.IncomingHttpHeaders;
    body: Promise<string>;
    close(): void;
  }> {
    return new Promise((resolve, reject) => {
      const request = http.get(
        new URL('/api/events', dashboard.url),
        { agent: false, localAddress, headers: { Accept: 'text/event-stream', ...headers } },
        (response) => {
          let text = '';
          const body = new Promise<string>((done) => {
            response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
            response.once('end', () => done(text));
            response.once('close', () => done(text));
          });
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body,
            close: () => request.destroy(),
          });
        },
      );
      request.once('error', reject);
    });
  }
});
