/**
 * withHeartbeat on a real SQLite run store: the step and service leases
 * outlive a slow attempt, lapse once it stops, and a service lease the
 * attempt let go of is never taken back by a late beat.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RecordingLogger } from '@recdeploy/shared';
import { leaseSettings, withHeartbeat, type StepAttempt } from '@recdeploy/shared/chain';
import { SqliteRunStore } from '@recdeploy/shared/local';
import { sampleIdentity } from '../fixtures/runs.js';

const SERVICE = 'rec-recs-home';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('withHeartbeat (step and service leases of a running attempt)', function () {
  this.timeout(20_000);
  let dir: string;
  let store: SqliteRunStore;
  const leases = leaseSettings(300); // beats every 100 ms

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-heartbeat-'));
    store = new SqliteRunStore({ file: path.join(dir, 'runs.db') });
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function claimRegister(): Promise<StepAttempt> {
    const { run } = await store.createRun(sampleIdentity());
    const claim = await store.claimStep({
      runId: run.runId,
      step: 'register',
      owner: 'attempt-1',
      leaseMs: leases.ttlMs,
    });
    assert.equal(claim.kind, 'claimed');
    return {
      run: claim.run,
      attempt: 1,
      owner: 'attempt-1',
      step: 'register',
      eventId: 'evt-1',
    };
  }

  it('keeps both leases for a slow attempt, and lets them lapse once it ends', async () => {
    const attempt = await claimRegister();
    const runId = attempt.run.runId;
    await withHeartbeat(
      { runStore: store, logger: new RecordingLogger(), leases },
      attempt,
      async (beat) => {
        await store.acquireServiceLease({ service: SERVICE, runId, ttlMs: leases.ttlMs });
        beat.holdService(SERVICE);
        await sleep(1_000); // more than three lifetimes
        const other = await store.claimStep({ runId, step: 'register', owner: 'b', leaseMs: 1 });
        assert.equal(other.kind, 'busy', 'the step lease was renewed');
        const service = await store.acquireServiceLease({
          service: SERVICE,
          runId: 'other',
          ttlMs: 1,
        });
        assert.equal(service.acquired, false, 'the service lease was renewed');
      },
    );
    await sleep(leases.ttlMs + 100);
    const takeover = await store.claimStep({ runId, step: 'register', owner: 'b', leaseMs: 1_000 });
    assert.equal(takeover.kind, 'claimed', 'the step lease lapsed once the attempt ended');
  });

  it('never takes back a service lease it let go of (no late beat after the release)', async () => {
    const attempt = await claimRegister();
    const runId = attempt.run.runId;
    await withHeartbeat(
      { runStore: store, logger: new RecordingLogger(), leases },
      attempt,
      async (beat) => {
        await store.acquireServiceLease({ service: SERVICE, runId, ttlMs: leases.ttlMs });
        beat.holdService(SERVICE);
        await sleep(250);
        await beat.letGoService();
        await store.releaseServiceLease(SERVICE, runId);
        // The attempt goes on (it announces its outcome) for several beats.
        await sleep(500);
        const other = await store.acquireServiceLease({
          service: SERVICE,
          runId: 'next',
          ttlMs: 5_000,
        });
        assert.equal(other.acquired, true, 'the service stayed free after the release');
      },
    );
  });

  it('stops beating once the step was taken over', async () => {
    const attempt = await claimRegister();
    const runId = attempt.run.runId;
    const logger = new RecordingLogger();
    await withHeartbeat({ runStore: store, logger, leases }, attempt, async () => {
      // Another delivery takes the step over while this attempt is paused (a
      // lease that lapsed during a long stall).
      const lapsed = new Date(Date.now() + leases.ttlMs + 1);
      const takeover = await store.claimStep({
        runId,
        step: 'register',
        owner: 'attempt-2',
        leaseMs: 5_000,
        now: lapsed,
      });
      assert.equal(takeover.kind, 'claimed');
      await sleep(600);
    });
    const warnings = logger.lines.filter((e) => e.message === 'lease heartbeat failed');
    assert.equal(warnings.length, 1, 'one failed beat (RUN.LEASE_LOST), then no more');
    assert.equal((await store.getRun(runId))?.steps.register.lease?.owner, 'attempt-2');
  });
});
