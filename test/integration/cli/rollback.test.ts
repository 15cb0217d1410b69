/**
 * `recdeploy rollback` against a real LocalProcessPlatform: revisions are
 * services/ann-serving child processes serving a tiny bundle, the "stack"
 * (this test process: its platform owns the processes and runs the router,
 * its bus pushes deployment-finished to a receiver) runs on the data
 * directory, and the CLI works on the same files as another process would.
 * afterEach checks that no revision process outlives the test.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { RecordingLogger, type RevisionSpec, type RunDocument } from '@recdeploy/shared';
import {
  LocalEventBus,
  LocalProcessPlatform,
  SqliteRunStore,
  isProcessAlive,
} from '@recdeploy/shared/local';
import { sampleIdentity } from '../../fixtures/runs.js';
import { writeTinyBundle } from '../../support/ann/tiny-bundle.js';
import { PushReceiver, decodeData } from '../../support/push-receiver.js';
import { ROOT, liveRun, pretendStackRuns, recdeploy } from './cli-harness.js';

const SERVICE = 'rec-recs-home';
const SOURCE_COMMAND = {
  command: process.execPath,
  args: [
    '--conditions=source',
    '--import',
    'tsx',
    path.join(ROOT, 'services/ann-serving/src/main.ts'),
  ],
  cwd: ROOT,
};

describe('recdeploy rollback (real local serving platform)', function () {
  this.timeout(120_000);
  let bundleDir: string;
  let dataDir: string;
  let stack: LocalProcessPlatform | undefined;
  let store: SqliteRunStore;
  let bus: LocalEventBus;
  let receiver: PushReceiver;
  let stopPretending: (() => void) | undefined;

  before(async () => {
    bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-cli-rollback-bundle-'));
    await writeTinyBundle(bundleDir);
  });
  after(() => fs.rmSync(bundleDir, { recursive: true, force: true }));

  beforeEach(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-cli-rollback-'));
    stack = openStackPlatform();
    store = new SqliteRunStore({ file: path.join(dataDir, 'runs.db') });
    receiver = new PushReceiver();
    await receiver.start();
    bus = new LocalEventBus({ file: path.join(dataDir, 'bus.db'), pollIntervalMs: 20 });
    bus.createTopic('deployment-finished');
    bus.createSubscription({
      name: 'deployment-finished-push',
      topic: 'deployment-finished',
      pushEndpoint: receiver.url('/finished'),
    });
    bus.start();
  });

  afterEach(async () => {
    stopPretending?.();
    stopPretending = undefined;
    await stack?.close();
    await bus.close();
    await store.close();
    await receiver.stop();
    const survivors = recordedPids().filter(isProcessAlive);
    for (const pid of survivors) process.kill(pid, 'SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
    assert.deepEqual(survivors, [], 'revision processes outlived the test');
  });

  function openStackPlatform(): LocalProcessPlatform {
    return new LocalProcessPlatform({
      file: path.join(dataDir, 'serving.db'),
      logsDir: path.join(dataDir, 'logs'),
      servingCommand: SOURCE_COMMAND,
      logger: new RecordingLogger(),
      readyTimeoutMs: 60_000,
      stopTimeoutMs: 5_000,
      readyPollIntervalMs: 50,
    });
  }

  function spec(n: number): RevisionSpec {
    return {
      service: SERVICE,
      revision: `${SERVICE}-r${n}`,
      tag: `run-${n}`,
      runtime: 'ann-serving',
      image: 'ann-serving:test',
      env: { MODEL_PATH: `file://${bundleDir}`, MODEL_NAME: 'recs', SHUTDOWN_TIMEOUT_MS: '1000' },
      containerPort: 8080,
      startupProbePath: '/v1/models/recs',
      resources: {
        memory: '1Gi',
        cpu: '1',
        minInstances: 0,
        maxInstances: 1,
        timeoutS: 60,
        concurrency: 8,
      },
      public: false,
      labels: {},
    };
  }

  /** Deploys and promotes revision n, and records its run as live, as the chain does. */
  async function deployLive(n: number): Promise<RunDocument> {
    if (stack === undefined) throw new Error('the stack platform is closed');
    const deployed = await stack.deployRevision(spec(n));
    const traffic = await stack.promote(SERVICE, deployed.revision);
    return liveRun(store, sampleIdentity({ trainingRunId: `train-${n}`, runNumber: n }), {
      runtime: 'ann-serving',
      mode: 'ann',
      service: SERVICE,
      revision: deployed.revision,
      tagUrl: deployed.tagUrl,
      url: traffic.serviceUrl,
    });
  }

  async function servedBy(serviceUrl: string): Promise<string | null> {
    const response = await fetch(`${serviceUrl}/v1/models/recs`);
    assert.equal(response.status, 200);
    return response.headers.get('x-recdeploy-revision');
  }

  function recordedPids(): number[] {
    const file = path.join(dataDir, 'serving.db');
    if (!fs.existsSync(file)) return [];
    const db = new Database(file, { readonly: true });
    try {
      const rows = db.prepare('SELECT pid FROM serving_revisions WHERE pid IS NOT NULL').all();
      return (rows as { pid: number }[]).map((row) => row.pid);
    } finally {
      db.close();
    }
  }

  it('moves the running stack’s router back, records rolled_back and announces it; then refuses', async () => {
    const one = await deployLive(1);
    const two = await deployLive(2);
    const serviceUrl = two.serving?.url ?? '';
    assert.equal(await servedBy(serviceUrl), 'rec-recs-home-r2');
    stopPretending = pretendStackRuns(dataDir);

    const { code, stdout, stderr } = await recdeploy('rollback', SERVICE, '--data-dir', dataDir);
    assert.equal(code, 0, stderr);
    assert.deepEqual(stdout.split('\n'), [
      'rolled back service rec-recs-home: revision rec-recs-home-r2 → rec-recs-home-r1',
      '  run recs-home-train-2 is rolled_back: rolled back by an operator to revision rec-recs-home-r1',
      `  now serving revision rec-recs-home-r1 (run recs-home-train-1, run number 1, live) at ${serviceUrl}`,
      '  deployment-finished (outcome rolled_back) published to deployment-finished',
    ]);
    assert.equal(
      stderr,
      `the local stack (pid ${process.pid}) serves revision rec-recs-home-r1 at ${serviceUrl} from now on`,
    );
    assert.equal(await servedBy(serviceUrl), 'rec-recs-home-r1', 'the router follows serving.db');
    const rolledBack = await store.getRun(two.runId);
    assert.equal(rolledBack?.status, 'rolled_back');
    assert.equal(
      rolledBack?.statusReason,
      'rolled back by an operator to revision rec-recs-home-r1',
    );
    assert.equal((await store.getRun(one.runId))?.status, 'live');

    await receiver.waitFor(() => receiver.on('/finished').length === 1, 'deployment-finished');
    const [push] = receiver.on('/finished');
    assert.ok(push);
    assert.deepEqual(decodeData(push), {
      schema_version: '1',
      run_id: two.runId,
      training_run_id: 'train-2',
      model_endpoint_id: 'recs-home',
      outcome: 'rolled_back',
      reason: 'rolled back by an operator to revision rec-recs-home-r1',
      revision: 'rec-recs-home-r2',
      finished_at: rolledBack?.updatedAt,
      verification: { passed: true, checks: [{ name: 'model_available', passed: true }] },
    });

    // Again: r2's run was rolled back and r1's is the only live one.
    const again = await recdeploy('rollback', SERVICE, '--data-dir', dataDir);
    assert.equal(again.code, 1);
    assert.equal(
      again.stderr,
      "recdeploy: service rec-recs-home has nothing to roll back to: the platform's previous revision rec-recs-home-r2 belongs to run recs-home-train-2, which is rolled_back, and no earlier run is live; name a revision explicitly to roll back to it",
    );
    const unknown = await recdeploy('rollback', 'rec-nope', '--data-dir', dataDir);
    assert.equal(unknown.code, 1);
    assert.equal(
      unknown.stderr,
      'recdeploy: service rec-nope does not exist on the serving platform (services with a live run: rec-recs-home)',
    );
    assert.equal(await servedBy(serviceUrl), 'rec-recs-home-r1', 'refusals changed nothing');
  });

  it('refuses a stopped revision while the stack runs; without a stack, records it for the next start', async () => {
    await deployLive(1);
    await deployLive(2);
    const three = await deployLive(3);
    const listed = stack?.listRevisions(SERVICE).map((r) => [r.revision, r.state, r.running]);
    assert.deepEqual(listed, [
      ['rec-recs-home-r1', 'stopped', false],
      ['rec-recs-home-r2', 'ready', true],
      ['rec-recs-home-r3', 'ready', true],
    ]);
    stopPretending = pretendStackRuns(dataDir);

    const refused = await recdeploy(
      'rollback',
      SERVICE,
      '--to',
      'rec-recs-home-r1',
      '--data-dir',
      dataDir,
    );
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      `recdeploy: revision rec-recs-home-r1 of service rec-recs-home is not running (stopped), and a process this command started would stop when it exits while the stack (pid ${process.pid}) routed traffic to it. Stop the stack (Ctrl-C), run this rollback again, then start the stack (npm start): it starts the revision that is live`,
    );
    assert.equal((await store.getRun(three.runId))?.status, 'live');

    // The stack stops (its processes with it); the rollback is recorded for its next start.
    stopPretending();
    stopPretending = undefined;
    await stack?.close();
    stack = undefined;
    const { code, stdout, stderr } = await recdeploy(
      'rollback',
      SERVICE,
      '--to',
      'rec-recs-home-r1',
      '--json',
      '--data-dir',
      dataDir,
    );
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as Record<string, unknown>;
    assert.equal(report.fromRevision, 'rec-recs-home-r3');
    assert.equal(report.toRevision, 'rec-recs-home-r1');
    assert.equal(report.targetSource, 'requested');
    assert.equal(report.rolledBackRunId, three.runId);
    assert.equal((report.run as RunDocument).status, 'rolled_back');
    assert.match(
      stderr,
      /^revision rec-recs-home-r1 is not running: starting it to check that it serves/,
    );
    assert.match(
      stderr,
      /\nno local stack is running on .*: service rec-recs-home serves revision rec-recs-home-r1 at http:\/\/127\.0\.0\.1:\d+ once it starts \(npm start\); the process started for the check stops with this command$/,
    );
    assert.deepEqual(
      recordedPids().filter(isProcessAlive),
      [],
      'the check process stopped with the command',
    );

    // The next start of the stack brings the rolled-back-to revision up behind the router.
    stack = openStackPlatform();
    const started = await stack.start();
    assert.ok(started.restarted.includes('rec-recs-home-r1'), JSON.stringify(started));
    const traffic = await stack.describe(SERVICE);
    assert.equal(traffic?.liveRevision, 'rec-recs-home-r1');
    assert.equal(await servedBy(traffic?.serviceUrl ?? ''), 'rec-recs-home-r1');
  });
});
