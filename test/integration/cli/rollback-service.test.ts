/**
 * The rollback use case (shared/usecases/rollback-service.ts) on a real
 * SQLite run store, with a recording serving platform and event bus: how it
 * picks the current run and the target, what it records and announces, and
 * what it refuses without changing anything.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  RecordingLogger,
  runKey,
  type EventBus,
  type OutgoingMessage,
  type RunDocument,
  type ServiceTraffic,
  type ServingPlatform,
} from '@recdeploy/shared';
import { loadChainConfig, rollbackService, type RollbackDeps } from '@recdeploy/shared/chain';
import { SqliteRunStore } from '@recdeploy/shared/local';
import { sampleIdentity } from '../../fixtures/runs.js';
import { liveRun } from './cli-harness.js';

const SERVICE = 'rec-recs-home';
const URL = 'http://127.0.0.1:40000';

/** A platform that only answers describe and rollback, and records rollbacks. */
class RecordingPlatform implements ServingPlatform {
  readonly rollbacks: [string, string | undefined][] = [];
  constructor(public traffic: ServiceTraffic | undefined) {}
  describe(service: string): Promise<ServiceTraffic | undefined> {
    return Promise.resolve(this.traffic?.service === service ? this.traffic : undefined);
  }
  rollback(service: string, toRevision?: string): Promise<ServiceTraffic> {
    this.rollbacks.push([service, toRevision]);
    const before = this.traffic;
    if (before === undefined || toRevision === undefined) throw new Error('unexpected rollback');
    this.traffic = { ...before, liveRevision: toRevision, previousRevision: before.liveRevision };
    return Promise.resolve(this.traffic);
  }
  deployRevision(): never {
    throw new Error('not used by rollback');
  }
  promote(): never {
    throw new Error('not used by rollback');
  }
  discardRevision(): never {
    throw new Error('not used by rollback');
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

class RecordingBus implements EventBus {
  readonly published: { topic: string; message: OutgoingMessage }[] = [];
  publish(topic: string, message: OutgoingMessage): Promise<string> {
    this.published.push({ topic, message });
    return Promise.resolve(String(this.published.length));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function traffic(live: string, previous?: string): ServiceTraffic {
  return {
    service: SERVICE,
    serviceUrl: URL,
    liveRevision: live,
    ...(previous === undefined ? {} : { previousRevision: previous }),
    targets: [],
  };
}

describe('rollbackService', () => {
  let dir: string;
  let store: SqliteRunStore;
  let bus: RecordingBus;
  let platform: RecordingPlatform;
  let deps: RollbackDeps;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-rollback-'));
    store = new SqliteRunStore({ file: path.join(dir, 'runs.db') });
    bus = new RecordingBus();
    platform = new RecordingPlatform(undefined);
    deps = {
      runStore: store,
      eventBus: bus,
      platform,
      config: loadChainConfig({ RECDEPLOY_DATA_DIR: dir }),
      logger: new RecordingLogger(),
    };
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A live run of recs-home with run number n, serving revision r{n}. */
  function live(n: number, service = SERVICE): Promise<RunDocument> {
    return liveRun(store, sampleIdentity({ trainingRunId: `train-${n}`, runNumber: n }), {
      runtime: 'ann-serving',
      service,
      revision: `r${n}`,
      url: URL,
    });
  }

  async function rejectsUnchanged(
    request: Parameters<typeof rollbackService>[1],
    code: string,
    message: string | RegExp,
  ): Promise<void> {
    const before = await store.listRuns();
    await assert.rejects(rollbackService(deps, request), (error: Error & { code?: string }) => {
      assert.equal(error.code, code);
      if (typeof message === 'string') assert.equal(error.message, message);
      else assert.match(error.message, message);
      return true;
    });
    assert.deepEqual(await store.listRuns(), before, 'no run changed');
    assert.deepEqual(platform.rollbacks, [], 'traffic not moved');
    assert.deepEqual(bus.published, [], 'nothing announced');
  }

  it("goes back to the platform's previous revision, records the run rolled back and announces it", async () => {
    await live(1);
    const current = await live(2);
    platform.traffic = traffic('r2', 'r1');

    const result = await rollbackService(deps, { service: SERVICE });

    assert.deepEqual(platform.rollbacks, [[SERVICE, 'r1']]);
    assert.equal(result.fromRevision, 'r2');
    assert.equal(result.toRevision, 'r1');
    assert.equal(result.targetSource, 'platform_previous');
    assert.equal(result.targetRun?.runId, 'recs-home-train-1');
    assert.equal(result.traffic.liveRevision, 'r1');
    const stored = await store.getRun(current.runId);
    assert.equal(stored?.status, 'rolled_back');
    assert.equal(stored?.statusReason, 'rolled back by an operator to revision r1');
    assert.deepEqual(result.rolledBack, stored);
    assert.equal((await store.getRun('recs-home-train-1'))?.status, 'live');

    assert.equal(bus.published.length, 1);
    const [{ topic, message }] = bus.published as [{ topic: string; message: OutgoingMessage }];
    assert.equal(topic, 'deployment-finished');
    assert.deepEqual(message.attributes, { run_id: current.runId, schema_version: '1' });
    assert.deepEqual(message.data, {
      schema_version: '1',
      run_id: 'recs-home-train-2',
      training_run_id: 'train-2',
      model_endpoint_id: 'recs-home',
      outcome: 'rolled_back',
      reason: 'rolled back by an operator to revision r1',
      revision: 'r2',
      finished_at: stored?.updatedAt,
      verification: { passed: true, checks: [{ name: 'model_available', passed: true }] },
    });
    // The service lease was released: a deployment can take the service now.
    const lease = await store.acquireServiceLease({
      service: SERVICE,
      runId: 'next',
      ttlMs: 1_000,
    });
    assert.equal(lease.acquired, true);
  });

  it("skips a previous revision whose run was rolled back, for the previous live run's", async () => {
    await live(1);
    await live(2);
    const three = await live(3);
    platform.traffic = traffic('r3', 'r2');
    await store.transition({
      runId: runKey(sampleIdentity({ trainingRunId: 'train-2' })),
      to: 'rolled_back',
    });

    const result = await rollbackService(deps, { service: SERVICE });
    assert.deepEqual(platform.rollbacks, [[SERVICE, 'r1']]);
    assert.equal(result.targetSource, 'previous_live_run');
    assert.equal(result.rolledBack.runId, three.runId);
  });

  it('rolls back to a requested revision of a run that went live before', async () => {
    await live(1);
    await live(2);
    await live(3);
    platform.traffic = traffic('r3', 'r2');
    const result = await rollbackService(deps, { service: SERVICE, toRevision: 'r1' });
    assert.deepEqual(platform.rollbacks, [[SERVICE, 'r1']]);
    assert.equal(result.targetSource, 'requested');
  });

  it('finishes an earlier rollback that moved the traffic but did not record it', async () => {
    await live(1);
    const two = await live(2);
    platform.traffic = traffic('r1', 'r2');
    const result = await rollbackService(deps, { service: SERVICE });
    assert.deepEqual(platform.rollbacks, [], 'the traffic is already there');
    assert.equal(result.targetSource, 'already_serving');
    assert.equal((await store.getRun(two.runId))?.status, 'rolled_back');
    assert.equal(bus.published.length, 1);
  });

  it('refuses an unknown service, listing the services with a live run', async () => {
    await live(1);
    platform.traffic = traffic('r1');
    await rejectsUnchanged(
      { service: 'rec-nope' },
      'PLATFORM.NOT_FOUND',
      'service rec-nope does not exist on the serving platform (services with a live run: rec-recs-home)',
    );
  });

  it('refuses a service no live run serves', async () => {
    await live(1, 'rec-other');
    platform.traffic = traffic('r9');
    await rejectsUnchanged(
      { service: SERVICE },
      'RUN.NOT_FOUND',
      "no live run serves service rec-recs-home (the platform's live revision: r9) (services with a live run: rec-other)",
    );
  });

  it('refuses when there is nothing to roll back to', async () => {
    await live(1);
    platform.traffic = traffic('r1');
    await rejectsUnchanged(
      { service: SERVICE },
      'PLATFORM.NOT_FOUND',
      'service rec-recs-home has nothing to roll back to: run recs-home-train-1 (revision r1) is its only live run and the platform remembers no previous revision; name a revision explicitly to roll back to it',
    );
  });

  it('refuses the live revision itself, and the revision of a run that never passed verification', async () => {
    await live(1);
    const failedIdentity = sampleIdentity({ trainingRunId: 'train-2', runNumber: 2 });
    await store.createRun(failedIdentity);
    const failedId = runKey(failedIdentity);
    for (const step of ['register', 'deploy'] as const) {
      await store.claimStep({ runId: failedId, step, owner: 't', leaseMs: 60_000 });
      await store.completeStep({
        runId: failedId,
        step,
        owner: 't',
        patch: { serving: { runtime: 'ann-serving', service: SERVICE, revision: 'r2' } },
      });
    }
    await store.claimStep({ runId: failedId, step: 'verify', owner: 't', leaseMs: 60_000 });
    await store.failStep({
      runId: failedId,
      step: 'verify',
      owner: 't',
      permanent: true,
      error: { code: 'VERIFY.FAILED', message: 'latency' },
    });
    platform.traffic = traffic('r1');
    await rejectsUnchanged(
      { service: SERVICE, toRevision: 'r1' },
      'PLATFORM.REJECTED',
      'revision r1 is the one being rolled back (run recs-home-train-1); name an earlier revision',
    );
    await rejectsUnchanged(
      { service: SERVICE, toRevision: 'r2' },
      'PLATFORM.REJECTED',
      'revision r2 belongs to run recs-home-train-2, which is failed: it never passed verification, so it cannot take traffic by a rollback',
    );
  });

  it('waits for a deployment holding the service (a passing failure)', async () => {
    await live(1);
    await live(2);
    platform.traffic = traffic('r2', 'r1');
    await store.acquireServiceLease({
      service: SERVICE,
      runId: 'recs-home-train-3',
      ttlMs: 60_000,
    });
    await assert.rejects(
      rollbackService(deps, { service: SERVICE }),
      (error: Error & { code?: string; retryable?: boolean }) => {
        assert.equal(error.code, 'RUN.STEP_BUSY');
        assert.equal(error.retryable, true);
        assert.match(
          error.message,
          /^service rec-recs-home is held by run recs-home-train-3 until .* \(a deployment is in progress\); try again once it has finished$/,
        );
        return true;
      },
    );
    assert.deepEqual(platform.rollbacks, []);
    assert.equal((await store.getRun('recs-home-train-2'))?.status, 'live');
  });
});
