/**
 * Canary ticks (shared/usecases/advance-canary.ts) on a real SQLite run store,
 * with the platform in memory (its contract is the one both real adapters are
 * tested for) and scripted live metrics: the steps, the verdicts, the abort,
 * the operator's requests, and crashes between a decision, the traffic move
 * and its record. A traffic change must happen once, however the ticks go.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DeploymentFinishedV1 } from '@recdeploy/events';
import { RecordingLogger, TransientError, type RunDocument } from '@recdeploy/shared';
import {
  advanceCanary,
  loadChainConfig,
  publishDeploymentFinished,
  requestCanary,
  rollbackService,
  type CanaryDeps,
} from '@recdeploy/shared/chain';
import { SqliteRunStore } from '@recdeploy/shared/local';
import { startAsCanary, walkRun } from '../../fixtures/canary-runs.js';
import { at } from '../../fixtures/runs.js';
import { MemoryPlatform } from '../../support/chain/memory-platform.js';
import { CANARY, HEALTHY, ScriptedMetrics } from '../../support/chain/scripted-metrics.js';
import { RecordingBus } from '../cli/rollback-bench.js';

const SERVICE = 'recs-home';
const STABLE = 'recs-home-00001-a';
const A = 'recs-home-train-a';
const B = 'recs-home-train-b';
/** The canary starts (its first split serves) at 4 s; TEST_CANARY_PLAN holds 60 s, needs 100 requests. */
const STARTED_MS = 4_000;
const afterStart = (s: number) => at(STARTED_MS + s * 1000);

describe('canary ticks', function () {
  this.timeout(30_000);
  let dir: string;
  let store: SqliteRunStore;
  let platform: MemoryPlatform;
  let metrics: ScriptedMetrics;
  let bus: RecordingBus;
  let deps: CanaryDeps;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-canary-'));
    store = new SqliteRunStore({ file: path.join(dir, 'runs.db') });
    platform = new MemoryPlatform();
    metrics = new ScriptedMetrics();
    bus = new RecordingBus();
    deps = {
      config: loadChainConfig({ RECDEPLOY_DATA_DIR: dir }),
      logger: new RecordingLogger(),
      runStore: store,
      eventBus: bus,
      platform,
      metrics,
    };
    await walkRun(store, {
      trainingRunId: 'train-a',
      runNumber: 1,
      service: SERVICE,
      revision: STABLE,
      verified: true,
      startMs: 0,
    });
    await walkRun(store, {
      trainingRunId: 'train-b',
      runNumber: 2,
      service: SERVICE,
      revision: CANARY,
      verified: false,
      startMs: 2_000,
    });
    platform.addService(SERVICE, STABLE, [CANARY]);
    await platform.splitTraffic(SERVICE, [
      { revision: CANARY, percent: 10 },
      { revision: STABLE, percent: 90 },
    ]);
    platform.changes.length = 0;
    await startAsCanary(store, {
      runId: B,
      owner: 'verifier',
      service: SERVICE,
      modelEndpointId: 'recs-home',
      revision: CANARY,
      stableRevision: STABLE,
      stableRunId: A,
      now: at(STARTED_MS),
    });
  });

  afterEach(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const tick = (s: number) => advanceCanary(deps, B, () => afterStart(s));
  const runOf = async (runId: string): Promise<RunDocument> => {
    const run = await store.getRun(runId);
    assert.ok(run, runId);
    return run;
  };
  const finished = (runId: string) =>
    bus.published
      .map((p) => p.message.data as DeploymentFinishedV1)
      .filter((message) => message.run_id === runId);

  it('walks a healthy canary 10% → 50% → 100%, each split made once, and makes it live', async () => {
    const early = await tick(30);
    assert.equal(early?.canary?.phase, 'holding');
    assert.equal(early?.canary?.steps[0]?.analysis?.verdict, 'wait');
    assert.deepEqual(platform.changes, [], 'nothing moves before the hold is over');
    assert.ok(early);
    await publishDeploymentFinished(deps, early);
    assert.deepEqual(finished(B), [], 'a canary that has not ended is not announced');

    const second = await tick(61);
    assert.equal(second?.canary?.stepIndex, 1);
    assert.equal(second?.canary?.phase, 'holding');
    assert.deepEqual(platform.changes, [`${SERVICE}: ${CANARY}=50,${STABLE}=50`]);
    assert.equal(
      second?.canary?.steps[1]?.trafficAt,
      afterStart(61).toISOString(),
      'the second window starts when its split serves',
    );
    const record = await store.getServingRecord(SERVICE);
    assert.equal(record?.liveRunId, A, 'the stable run serves until the promotion');
    assert.deepEqual(record?.traffic.map((share) => share.percent).sort(), [50, 50]);

    await tick(90);
    assert.equal(platform.changes.length, 1, 'a judgement inside the hold moves nothing');
    const last = await tick(122);
    assert.equal(last?.status, 'live');
    assert.equal(last?.canary?.phase, 'promoted');
    assert.deepEqual(
      last?.canary?.steps.map((step) => step.verdict),
      ['passed', 'passed'],
    );
    assert.deepEqual(platform.changes.slice(1), [`${SERVICE}: ${CANARY}=100`]);
    assert.equal((await runOf(A)).status, 'replaced');
    assert.equal((await store.getServingRecord(SERVICE))?.liveRunId, B);
    const [announced] = finished(B);
    assert.equal(announced?.outcome, 'live');
    assert.equal(announced?.rollout?.result, 'promoted');
    assert.deepEqual(
      announced?.rollout?.steps?.map((step) => [step.percent, step.verdict]),
      [
        [10, 'passed'],
        [50, 'passed'],
      ],
    );
    assert.equal(await tick(200).then((run) => run?.status), 'live', 'a later tick leaves it be');
    assert.equal(platform.changes.length, 2);
  });

  it('aborts at once on a failing metric: stable back at 100%, the run rolled back with both values and the threshold', async () => {
    metrics.health = (revision) => ({
      ...HEALTHY(revision),
      errors: revision === CANARY ? 25 : 0,
    });
    const ended = await tick(5);
    assert.equal(ended?.status, 'rolled_back');
    assert.equal(ended?.canary?.phase, 'aborted');
    assert.match(
      ended?.statusReason ?? '',
      /canary aborted, traffic back on revision recs-home-00001-a: step 1 of 2 \(10% of traffic\) failed: error ratio \(5xx and time-outs\) 5\.0% on the canary \(25 of 500 requests\) against 0\.0% on the stable \(0 of 4500\): above the limit of 1\.0%/,
    );
    assert.deepEqual(platform.changes, [`${SERVICE}: ${STABLE}=100`]);
    assert.deepEqual(platform.discarded, [CANARY]);
    assert.equal((await runOf(A)).status, 'live');
    const [announced] = finished(B);
    assert.equal(announced?.outcome, 'rolled_back');
    assert.equal(announced?.rollout?.result, 'aborted');
    assert.match(announced?.reason ?? '', /error ratio/);
  });

  it('finishes a decided split after a crash before the traffic moved, once', async () => {
    platform.crash('splitTraffic', 'before');
    await assert.rejects(tick(61), /crash before splitTraffic/);
    const decided = await runOf(B);
    assert.equal(decided.canary?.phase, 'moving');
    assert.equal(decided.canary?.stepIndex, 1);
    assert.equal(platform.percentOf(SERVICE, CANARY), 10);
    const after = await tick(63);
    assert.equal(after?.canary?.phase, 'holding');
    assert.deepEqual(platform.changes, [`${SERVICE}: ${CANARY}=50,${STABLE}=50`]);
  });

  it('does not move the traffic again after a crash between the move and its record', async () => {
    platform.crash('splitTraffic', 'after');
    await assert.rejects(tick(61), /crash after splitTraffic/);
    assert.equal((await runOf(B)).canary?.phase, 'moving');
    assert.equal(platform.percentOf(SERVICE, CANARY), 50);
    const after = await tick(63);
    assert.equal(after?.canary?.phase, 'holding');
    assert.equal(platform.changes.length, 1);
  });

  it('records a promotion whose traffic moved before a crash, without promoting twice', async () => {
    await tick(61);
    platform.crash('promote', 'after');
    await assert.rejects(tick(122), /crash after promote/);
    assert.equal((await runOf(B)).status, 'canary');
    assert.equal((await runOf(B)).canary?.phase, 'promoting');
    const live = await tick(125);
    assert.equal(live?.status, 'live');
    assert.equal(platform.changes.filter((change) => change.endsWith(`${CANARY}=100`)).length, 1);
    assert.equal((await runOf(A)).status, 'replaced');
  });

  it('two ticks at once decide once: one split, one state', async () => {
    const results = await Promise.allSettled([tick(61), tick(61), tick(61)]);
    assert.ok(results.every((result) => result.status === 'fulfilled'));
    assert.deepEqual(platform.changes, [`${SERVICE}: ${CANARY}=50,${STABLE}=50`]);
    const stored = await runOf(B);
    assert.equal(stored.canary?.stepIndex, 1);
    assert.equal(stored.canary?.phase, 'holding');
  });

  it('carries out an operator abort at the next tick, and refuses one for a run that left its canary', async () => {
    await requestCanary(deps, {
      runId: B,
      action: 'abort',
      requestedBy: 'recdeploy abort by alice',
    });
    const ended = await tick(10);
    assert.equal(ended?.status, 'rolled_back');
    assert.equal(ended?.canary?.steps[0]?.verdict, 'aborted_by_operator');
    assert.match(ended?.statusReason ?? '', /aborted by recdeploy abort by alice at step 1 of 2/);
    await assert.rejects(
      requestCanary(deps, { runId: B, action: 'promote', requestedBy: 'bob' }),
      (error: { code?: string; message: string }) =>
        error.code === 'RUN.NOT_CANARY' && /its canary was aborted/.test(error.message),
    );
  });

  it('promotes at once on an operator promote, skipping the remaining steps', async () => {
    await requestCanary(deps, { runId: B, action: 'promote', requestedBy: 'carol' });
    const live = await tick(10);
    assert.equal(live?.status, 'live');
    assert.equal(live?.canary?.steps[0]?.verdict, 'promoted_by_operator');
    assert.deepEqual(platform.changes, [`${SERVICE}: ${CANARY}=100`]);
  });

  it('aborts a step that never sees enough traffic once its max hold is over', async () => {
    metrics.health = (revision) => ({ ...HEALTHY(revision), requests: 7 });
    assert.equal((await tick(599))?.status, 'canary');
    const ended = await tick(601);
    assert.equal(ended?.status, 'rolled_back');
    assert.match(ended?.statusReason ?? '', /could not be judged: after 601 s \(the max hold\)/);
  });

  it('compares degenerate answers only when the source sees the answers of both runtimes', async () => {
    metrics.health = (revision) => ({
      ...HEALTHY(revision),
      answers: { inspected: 500, degenerate: revision === CANARY ? 100 : 0 },
    });
    metrics.seesAnswersOf = ['tf-serving']; // both runs here serve on ann-serving
    const unjudged = await tick(30);
    assert.equal(unjudged?.status, 'canary');
    const finding = unjudged?.canary?.steps[0]?.analysis?.findings.find(
      (f) => f.metric === 'degenerate_ratio',
    );
    assert.match(finding?.detail ?? '', /not measured/);
    metrics.seesAnswersOf = ['ann-serving'];
    const ended = await tick(31);
    assert.equal(ended?.status, 'rolled_back');
    assert.match(ended?.statusReason ?? '', /share of degenerate answers .* 20\.0% on the canary/);
  });

  it('waits for unreadable metrics until the max hold, then aborts saying why', async () => {
    metrics.failure = new TransientError('DEPENDENCY.UNAVAILABLE', 'Cloud Monitoring: UNAVAILABLE');
    await assert.rejects(tick(300), /UNAVAILABLE/);
    assert.equal((await runOf(B)).status, 'canary', 'the next tick reads again');
    assert.deepEqual(platform.changes, []);
    const ended = await tick(601);
    assert.equal(ended?.status, 'rolled_back');
    assert.match(
      ended?.statusReason ?? '',
      /step 1 of 2 \(10% of traffic\) could not be judged: its live metrics could not be read, and 601 s \(the max hold\) have passed: DEPENDENCY.UNAVAILABLE: Cloud Monitoring: UNAVAILABLE/,
    );
    assert.deepEqual(platform.changes, [`${SERVICE}: ${STABLE}=100`]);
  });

  it('refuses a rollback of the service while the canary runs, naming the abort to use', async () => {
    await assert.rejects(
      rollbackService(deps, { service: SERVICE }),
      (error: { code?: string; message: string }) =>
        error.code === 'RUN.CANARY_IN_PROGRESS' && error.message.includes(`recdeploy abort ${B}`),
    );
    assert.deepEqual(platform.changes, [], 'no traffic moved');
  });

  it('judges the window from the step start to now', async () => {
    await tick(30);
    assert.deepEqual(metrics.windows.at(-1), {
      from: afterStart(0).toISOString(),
      to: afterStart(30).toISOString(),
    });
  });
});
