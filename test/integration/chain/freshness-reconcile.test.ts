/**
 * Freshness through the reconciler's pass, with the pass's injected `now`
 * moving forward, on a real SQLite run store: a breach is announced once,
 * later passes publish nothing more, its end is announced once; a publish
 * that fails is repeated at the next pass with the same alert_id.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseFreshnessAlertV1, type FreshnessAlertV1 } from '@recdeploy/events';
import {
  RecordingLogger,
  TransientError,
  type EventBus,
  type OutgoingMessage,
  type RunStore,
} from '@recdeploy/shared';
import { loadChainConfig, reconcile, type ReconcileDeps } from '@recdeploy/shared/chain';
import { SqliteRunStore } from '@recdeploy/shared/local';
import { completeAsChain, deployedTo, registeredAs, sampleIdentity } from '../../fixtures/runs.js';
import { MemoryPlatform } from '../../support/chain/memory-platform.js';
import { ScriptedMetrics } from '../../support/chain/scripted-metrics.js';

const DAY = 86_400_000;
const T = new Date('2030-03-01T00:00:00.000Z');
const after = (ms: number) => new Date(T.getTime() + ms);

/**
 * An EventBus as the port promises (shared/ports/event-bus.port.ts): resolves
 * with an id once accepted; `failNext` makes the next publish reject as the
 * local bus does when it cannot store (TransientError BUS.PUBLISH_FAILED).
 */
class FlakyBus implements EventBus {
  readonly published: { topic: string; message: OutgoingMessage }[] = [];
  private failures = 0;
  failNext(count = 1): void {
    this.failures = count;
  }
  publish(topic: string, message: OutgoingMessage): Promise<string> {
    if (this.failures > 0) {
      this.failures -= 1;
      return Promise.reject(new TransientError('BUS.PUBLISH_FAILED', `publish to ${topic} failed`));
    }
    this.published.push({ topic, message });
    return Promise.resolve(String(this.published.length));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** A run through the chain to live on `rec-recs-home`, its training ended at `completedAt`. */
async function goLive(
  store: RunStore,
  trainingRunId: string,
  runNumber: number,
  completedAt: Date,
  now: Date,
) {
  const { run } = await store.createRun(
    sampleIdentity({ trainingRunId, runNumber, completedAt: completedAt.toISOString() }),
    { now },
  );
  const patches = {
    register: registeredAs(runNumber),
    deploy: deployedTo('rec-recs-home', `${trainingRunId}-r`),
  };
  for (const step of ['register', 'deploy', 'verify'] as const) {
    await store.claimStep({ runId: run.runId, step, owner: 'w', leaseMs: 600_000, now });
    await completeAsChain(store, {
      runId: run.runId,
      step,
      owner: 'w',
      now,
      ...(step === 'verify' ? {} : { patch: patches[step] }),
    });
  }
  return run.runId;
}

describe('freshness in the reconciler pass', function () {
  this.timeout(20_000);
  let dir: string;
  let store: SqliteRunStore;
  let bus: FlakyBus;
  let deps: ReconcileDeps;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-freshness-'));
    store = new SqliteRunStore({ file: path.join(dir, 'runs.db') });
    bus = new FlakyBus();
    deps = {
      config: loadChainConfig({
        RECDEPLOY_DATA_DIR: dir,
        FRESHNESS_MAX_AGE: '7d',
        FRESHNESS_MAX_LAG: '6h',
      }),
      logger: new RecordingLogger(),
      runStore: store,
      eventBus: bus,
      platform: new MemoryPlatform(),
      metrics: new ScriptedMetrics(),
      indexBuilds: {
        start: () => Promise.reject(new Error('no index builds in this test')),
        status: () => Promise.reject(new Error('no index builds in this test')),
        close: () => Promise.resolve(),
      },
    };
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const alerts = (): FreshnessAlertV1[] =>
    bus.published.map(({ topic, message }) => {
      assert.equal(topic, 'freshness-alerts');
      const parsed = parseFreshnessAlertV1(message.data);
      assert.ok(parsed.ok, JSON.stringify(message.data));
      assert.equal(message.attributes?.alert_id, parsed.value.alert_id);
      return parsed.value;
    });

  it('announces a breach once, nothing on later passes, and its end once', async () => {
    await goLive(store, 't1', 1, T, T);
    assert.deepEqual((await reconcile(deps, after(7 * DAY))).freshness, []);
    assert.deepEqual(bus.published, []);

    const report = await reconcile(deps, after(7 * DAY + 1000));
    const id = `recs-home:max_age:${after(7 * DAY).toISOString()}`;
    assert.deepEqual(report.freshness, [
      { endpoint: 'recs-home', kind: 'max_age', state: 'breached', alertId: id },
    ]);
    assert.deepEqual(report.errors, []);
    const [breached] = alerts();
    assert.equal(breached?.state, 'breached');
    assert.equal(breached?.threshold_s, 7 * 86_400);
    assert.equal(breached?.live_run_id, 'recs-home-t1');
    assert.equal(breached?.live_training_completed_at, T.toISOString());
    assert.equal(
      (await store.listFreshnessAlerts())[0]?.announcedAt,
      after(7 * DAY + 1000).toISOString(),
    );

    for (const hours of [1, 2, 30]) await reconcile(deps, after(7 * DAY + hours * 3_600_000));
    assert.equal(bus.published.length, 1, 'later passes publish nothing more');

    // A newer run goes live: the age limit is met again.
    const clearAt = after(8 * DAY);
    await goLive(store, 't2', 2, after(8 * DAY - 3_600_000), clearAt);
    const cleared = await reconcile(deps, clearAt);
    assert.deepEqual(cleared.freshness, [
      { endpoint: 'recs-home', kind: 'max_age', state: 'resolved', alertId: id },
    ]);
    const resolved = alerts()[1];
    assert.equal(resolved?.alert_id, id);
    assert.equal(resolved?.resolved_at, clearAt.toISOString());
    assert.deepEqual(await store.listFreshnessAlerts(), []);
    await reconcile(deps, after(8 * DAY + 60_000));
    assert.equal(bus.published.length, 2);
  });

  it('repeats a publish that failed at the next pass, with the same alert_id', async () => {
    await goLive(store, 't1', 1, T, T);
    // A newer run that failed: 6 h after its training ended it makes the endpoint lag.
    await store.createRun(
      sampleIdentity({ trainingRunId: 't2', runNumber: 2, completedAt: after(DAY).toISOString() }),
      { now: after(DAY) },
    );
    await store.transition({
      runId: 'recs-home-t2',
      to: 'failed',
      reason: 'test: failed',
      now: after(DAY),
    });

    bus.failNext();
    const failed = await reconcile(deps, after(DAY + 7 * 3_600_000));
    assert.deepEqual(failed.freshness, []);
    assert.equal(failed.errors.length, 1);
    assert.match(failed.errors[0]?.what ?? '', /^freshness alert recs-home:max_lag:/);
    assert.equal((await store.listFreshnessAlerts()).length, 1, 'opened, not yet announced');

    const retried = await reconcile(deps, after(DAY + 8 * 3_600_000));
    assert.deepEqual(retried.errors, []);
    const [breached] = alerts();
    assert.equal(breached?.kind, 'max_lag');
    assert.equal(breached?.breached_since, after(DAY + 6 * 3_600_000).toISOString());
    assert.equal(breached?.newest_run_id, 'recs-home-t2');
    assert.equal(breached?.newest_run_status, 'failed');

    // The run that fixes it goes live; the resolved publish fails once, then goes out.
    await goLive(store, 't3', 3, after(DAY + 9 * 3_600_000), after(DAY + 10 * 3_600_000));
    bus.failNext();
    await reconcile(deps, after(DAY + 10 * 3_600_000));
    assert.equal(bus.published.length, 1);
    await reconcile(deps, after(DAY + 11 * 3_600_000));
    const states = alerts().map((a) => `${a.state} ${a.alert_id}`);
    assert.deepEqual(states, [`breached ${breached?.alert_id}`, `resolved ${breached?.alert_id}`]);
    assert.deepEqual(await store.listFreshnessAlerts(), []);
  });
});
