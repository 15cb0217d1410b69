import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import Database from 'better-sqlite3';
import { RUN_STORE_SCHEMA_VERSION, SqliteRunStore } from '@recdeploy/shared/local';
import type { RunChange, TransitionResult } from '@recdeploy/shared';
import { runStoreContract } from '../contracts/run-store.contract.js';
import { T0, at, sampleIdentity } from '../fixtures/runs.js';
import { StoreWorkerPool } from './support/run-store-workers.js';

const RUN = 'recs-home-train-001';
describe('SqliteRunStore', () => {
  let dir = '';

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-run-store-'));
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  let fileCount = 0;
  function newFile(): string {
    return path.join(dir, `runs-${++fileCount}.sqlite`);
  }

  runStoreContract('SqliteRunStore', () => {
    const store = new SqliteRunStore({ file: newFile(), pollIntervalMs: 20 });
    return Promise.resolve({ store, cleanup: () => store.close() });
  });

  describe('SqliteRunStore on a real file', () => {
    it('keeps its data when the file is reopened', async () => {
      const file = newFile();
      const first = new SqliteRunStore({ file });
      const created = await first.createRun(sampleIdentity(), { now: T0 });
      await first.acquireServiceLease({ service: 's', runId: RUN, ttlMs: 60_000, now: T0 });
      await first.recordRejectedEvent({
        eventId: 'e',
        code: 'EVENT.INVALID',
        reason: 'r',
        receivedAt: T0.toISOString(),
      });
      await first.close();

      const second = new SqliteRunStore({ file });
      assert.deepEqual(await second.getRun(RUN), created.run);
      const other = await second.acquireServiceLease({
        service: 's',
        runId: 'other',
        ttlMs: 1,
        now: at(1),
      });
      assert.equal(other.acquired === false && other.holder, RUN);
      assert.equal((await second.listRejectedEvents()).length, 1);
      await second.close();
    });

    it('records its schema version and refuses a file from a newer schema', async () => {
      const file = newFile();
      await new SqliteRunStore({ file }).close();
      const raw = new Database(file);
      assert.equal(raw.pragma('user_version', { simple: true }), RUN_STORE_SCHEMA_VERSION);
      raw.pragma('user_version = 99');
      raw.close();
      assert.throws(() => new SqliteRunStore({ file }), /newer than this program/);
    });

    it('upgrades a version-1 file (no serving records yet) in place, keeping its runs', async () => {
      const file = newFile();
      const first = new SqliteRunStore({ file });
      await first.createRun(sampleIdentity(), { now: T0 });
      await first.close();
      const raw = new Database(file);
      raw.exec('DROP TABLE serving_records');
      raw.pragma('user_version = 1');
      raw.close();
      const upgraded = new SqliteRunStore({ file });
      assert.equal((await upgraded.listRuns()).length, 1);
      assert.deepEqual(await upgraded.listServingRecords(), []);
      await upgraded.close();
      const check = new Database(file);
      assert.equal(check.pragma('user_version', { simple: true }), RUN_STORE_SCHEMA_VERSION);
      check.close();
    });

    it('keeps only the newest rejected events', async () => {
      const store = new SqliteRunStore({ file: newFile(), maxRejectedEvents: 3 });
      for (let i = 0; i < 6; i += 1) {
        await store.recordRejectedEvent({
          eventId: `e${i}`,
          code: 'X',
          reason: 'r',
          receivedAt: at(i).toISOString(),
        });
      }
      assert.deepEqual(
        (await store.listRejectedEvents(10)).map((e) => e.eventId),
        ['e5', 'e4', 'e3'],
      );
      await store.close();
    });

    it("waits out another process's lock without blocking the event loop, then writes", async function () {
      this.timeout(20_000);
      const file = newFile();
      const store = new SqliteRunStore({ file });
      const holder = await lockFor(file, 1_000);
      let ticks = 0;
      const ticker = setInterval(() => (ticks += 1), 10);
      try {
        const created = await store.createRun(sampleIdentity(), { now: T0 });
        assert.equal(created.kind, 'created');
        assert.ok(Date.now() >= holder.releasedAt, 'written only once the lock was released');
        // A 10 s synchronous busy_timeout would have frozen the ticker for the whole second.
        assert.ok(ticks >= 20, `the event loop ran ${ticks} ticks while the store waited`);
      } finally {
        clearInterval(ticker);
        await holder.exited;
        await store.close();
      }
    });

    it('answers STORE.UNAVAILABLE (retryable) when the lock outlasts busyWaitMs, having written nothing', async function () {
      this.timeout(20_000);
      const file = newFile();
      const store = new SqliteRunStore({ file, busyWaitMs: 200 });
      const holder = await lockFor(file, 1_500);
      try {
        await assert.rejects(store.createRun(sampleIdentity(), { now: T0 }), {
          code: 'STORE.UNAVAILABLE',
          retryable: true,
        });
      } finally {
        await holder.exited;
      }
      assert.equal(await store.getRun(RUN), undefined);
      await store.close();
    });

    it('answers STORE.UNAVAILABLE (retryable) once closed', async () => {
      const store = new SqliteRunStore({ file: newFile() });
      await store.close();
      await assert.rejects(store.getRun(RUN), { code: 'STORE.UNAVAILABLE', retryable: true });
    });

    it('a watcher on a second connection sees every change of another thread, in order', async function () {
      this.timeout(60_000);
      const file = newFile();
      const writer = new SqliteRunStore({ file });
      await writer.createRun(sampleIdentity(), { now: T0 });
      const dashboard = new SqliteRunStore({ file, pollIntervalMs: 20 });
      const seen: RunChange[] = [];
      dashboard.watch((change) => seen.push(change));
      const pool = await StoreWorkerPool.start(file, 1);
      try {
        await pool.on(0, {
          op: 'deliverRegister',
          claim: { runId: RUN, step: 'register', owner: 'w', leaseMs: 60_000, eventId: 'evt-1' },
        });
        await writer.transition({ runId: RUN, to: 'deploying' });
        const deadline = Date.now() + 5_000;
        while (seen.length < 3 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 20));
        // Every version, not just the latest: the change log keeps each commit.
        assert.deepEqual(
          seen.map((c) => c.run.status),
          ['registering', 'registered', 'deploying'],
        );
        assert.deepEqual(seen.at(-1)?.run, await writer.getRun(RUN));
      } finally {
        await pool.stop();
        await dashboard.close();
        await writer.close();
      }
    });

    describe('with real parallelism (50 worker threads on one file)', function () {
      this.timeout(120_000);
      let file = '';
      let setup: SqliteRunStore;
      let pool: StoreWorkerPool;

      before(async () => {
        file = newFile();
        setup = new SqliteRunStore({ file });
        const started = Date.now();
        pool = await StoreWorkerPool.start(file, 50);
        console.log(`      (50 workers started in ${Date.now() - started} ms)`);
      });
      after(async () => {
        await pool.stop();
        await setup.close();
      });

      for (const workMs of [0, 250]) {
        it(`50 concurrent deliveries of one event make exactly one transition (side effect ${workMs} ms)`, async () => {
          const identity = sampleIdentity({ trainingRunId: `deliver-${workMs}` });
          const runId = (await setup.createRun(identity, { now: T0, eventId: 'evt-create' })).run
            .runId;
          const started = Date.now();
          const replies = await pool.race((i) => ({
            op: 'deliverRegister',
            workMs,
            claim: {
              runId,
              step: 'register',
              owner: `instance-${i}`,
              leaseMs: 60_000,
              eventId: 'evt-1',
            },
          }));
          const elapsed = Date.now() - started;
          const kinds = replies.map((r) => (r.ok ? String(r.value) : `error:${r.code}`));
          assert.equal(kinds.filter((k) => k === 'claimed').length, 1, kinds.join());
          assert.ok(
            kinds.every((k) => ['claimed', 'busy', 'done'].includes(k)),
            kinds.join(),
          );
          const run = await setup.getRun(runId);
          assert.equal(run?.status, 'registered');
          assert.equal(run?.steps.register.attempts, 1);
          assert.deepEqual(
            run?.history.map((h) => [h.to, h.eventId]),
            [
              ['received', 'evt-create'],
              ['registering', 'evt-1'],
              ['registered', 'evt-1'],
            ],
          );
          console.log(`      (settled in ${elapsed} ms: ${count(kinds)})`);
        });
      }

      it('50 concurrent identical transitions: one changes the run, 49 are no-ops', async () => {
        const identity = sampleIdentity({ trainingRunId: 'skip-race' });
        const runId = (await setup.createRun(identity, { now: T0 })).run.runId;
        const replies = await pool.race(() => ({
          op: 'transition',
          request: { runId, to: 'skipped', reason: 'superseded', eventId: 'evt-skip' },
        }));
        assert.ok(replies.every((r) => r.ok));
        const changed = replies.filter((r) => r.ok && (r.value as TransitionResult).changed);
        assert.equal(changed.length, 1);
        const run = await setup.getRun(runId);
        assert.deepEqual(
          run?.history.map((h) => h.to),
          ['received', 'skipped'],
        );
      });

      it('two runs racing for one service lease: exactly one wins, every round', async () => {
        for (let round = 0; round < 20; round += 1) {
          const replies = await pool.race(
            (i) => ({
              op: 'acquireServiceLease',
              request: { service: `svc-${round}`, runId: `run-${i}`, ttlMs: 60_000 },
            }),
            2,
          );
          const won = replies.filter((r) => r.ok && (r.value as { acquired: boolean }).acquired);
          assert.equal(won.length, 1, `round ${round}`);
        }
      });

      it('an expired service lease is taken over from another worker', async () => {
        const acquire = (index: number, runId: string, now: Date) =>
          pool.on(index, {
            op: 'acquireServiceLease',
            request: { service: 'svc-x', runId, ttlMs: 1_000, now },
          });
        const acquired = (reply: Awaited<ReturnType<typeof acquire>>) =>
          reply.ok && (reply.value as { acquired: boolean }).acquired;
        assert.equal(acquired(await acquire(0, 'run-0', T0)), true);
        assert.equal(acquired(await acquire(1, 'run-1', at(999))), false);
        assert.equal(acquired(await acquire(1, 'run-1', at(1_000))), true);
        assert.equal(acquired(await acquire(0, 'run-0', at(1_001))), false);
      });
    });
  });
});

function count(kinds: readonly string[]): string {
  const tally = new Map<string, number>();
  for (const k of kinds) tally.set(k, (tally.get(k) ?? 0) + 1);
  return [...tally].map(([k, n]) => `${n} ${k}`).join(', ');
}

/**
 * Another process takes the write lock of `file` (BEGIN EXCLUSIVE) and holds
 * it `holdMs`; resolves once it holds it, with when it lets go.
 */
async function lockFor(
  file: string,
  holdMs: number,
): Promise<{ releasedAt: number; exited: Promise<void> }> {
  const script = `
    const Database = require(process.argv[1]);
    const db = new Database(process.argv[2]);
    db.exec('BEGIN EXCLUSIVE');
    const until = Date.now() + Number(process.argv[3]);
    process.stdout.write(String(until) + '\\n');
    setTimeout(() => { db.exec('COMMIT'); db.close(); }, Number(process.argv[3]));
  `;
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const child = spawn(process.execPath, ['-e', script, driver, file, String(holdMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').once('data', (chunk: string) => resolve(chunk));
    child.once('exit', (code) => reject(new Error(`lock holder exited ${code}`)));
  });
  return { releasedAt: Number(line.trim()), exited };
}
