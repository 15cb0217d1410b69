/**
 * `recdeploy rollback` against a real LocalProcessPlatform with a running
 * "stack" (rollback-platform-bench.ts): the router follows at once, both runs
 * are recorded through the serving record and announced; then what it refuses.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeTinyBundle } from '../../support/ann/tiny-bundle.js';
import { decodeData } from '../../support/push-receiver.js';
import { recdeploy } from './cli-harness.js';
import { PlatformBench, SERVICE } from './rollback-platform-bench.js';

describe('recdeploy rollback (real local serving platform)', function () {
  this.timeout(120_000);
  let bundleDir: string;
  let bench: PlatformBench;

  before(async () => {
    bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-cli-rollback-bundle-'));
    await writeTinyBundle(bundleDir);
  });
  after(() => fs.rmSync(bundleDir, { recursive: true, force: true }));
  beforeEach(async () => {
    bench = await PlatformBench.open(bundleDir);
  });
  afterEach(() => bench.close());

  it('moves the running stack’s router back, records both runs and announces them; then refuses', async () => {
    const one = await bench.deployLive(1);
    const two = await bench.deployLive(2);
    assert.equal((await bench.store.getRun(one.runId))?.status, 'replaced');
    const serviceUrl = two.serving?.url ?? '';
    assert.equal(await bench.servedBy(serviceUrl), 'rec-recs-home-r2');
    bench.pretendStackRuns();

    const { code, stdout, stderr } = await recdeploy(
      'rollback',
      SERVICE,
      '--to',
      'rec-recs-home-r1',
      '--data-dir',
      bench.dataDir,
    );
    assert.equal(code, 0, stderr);
    const reason =
      'rolled back by an operator to revision rec-recs-home-r1: traffic moved to revision rec-recs-home-r1 of run recs-home-train-1';
    assert.deepEqual(stdout.split('\n'), [
      'rolled back service rec-recs-home: revision rec-recs-home-r2 → rec-recs-home-r1',
      `  run recs-home-train-2 (revision rec-recs-home-r2) is rolled_back: ${reason}`,
      `  now serving revision rec-recs-home-r1 (run recs-home-train-1, run number 1, live) at ${serviceUrl}`,
      '  traffic as the platform reports it: rec-recs-home-r1 100%',
      '  deployment-finished published to deployment-finished: run recs-home-train-2 rolled_back, run recs-home-train-1 live',
    ]);
    assert.equal(
      stderr,
      `the local stack (pid ${process.pid}) serves revision rec-recs-home-r1 at ${serviceUrl} from now on`,
    );
    assert.equal(
      await bench.servedBy(serviceUrl),
      'rec-recs-home-r1',
      'the router follows serving.db',
    );
    const rolledBack = await bench.store.getRun(two.runId);
    assert.equal(rolledBack?.status, 'rolled_back');
    assert.equal(rolledBack?.statusReason, reason);
    assert.equal(
      (await bench.store.getRun(one.runId))?.status,
      'live',
      'the run it replaced serves again',
    );
    const record = await bench.store.getServingRecord(SERVICE);
    assert.equal(record?.liveRunId, one.runId);
    assert.deepEqual(
      (await bench.store.listRuns({ status: 'live' })).map((run) => run.runId),
      [one.runId],
      'one live run, the one whose revision the router serves',
    );

    await bench.receiver.waitFor(
      () => bench.receiver.on('/finished').length === 2,
      'deployment-finished',
    );
    const [push, livePush] = bench.receiver.on('/finished');
    assert.ok(push && livePush);
    const servingNow = {
      service: SERVICE,
      revision: 'rec-recs-home-r1',
      run_id: one.runId,
      traffic_percent: 100,
      since: record?.since,
    };
    assert.deepEqual(decodeData(push), {
      schema_version: '1',
      run_id: two.runId,
      training_run_id: 'train-2',
      model_endpoint_id: 'recs-home',
      outcome: 'rolled_back',
      reason,
      revision: 'rec-recs-home-r2',
      finished_at: rolledBack?.updatedAt,
      verification: { passed: true, checks: [{ name: 'model_available', passed: true }] },
      serving_now: servingNow,
    });
    assert.deepEqual(
      [
        (decodeData(livePush) as { run_id: string }).run_id,
        (decodeData(livePush) as { outcome: string }).outcome,
      ],
      [one.runId, 'live'],
    );

    // Again, by default: r2's run was just rolled back and no run before r1's may serve.
    const again = await recdeploy('rollback', SERVICE, '--data-dir', bench.dataDir);
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      /^recdeploy: service rec-recs-home has nothing to roll back to: the platform's previous revision rec-recs-home-r2 belongs to run recs-home-train-2, which is rolled_back/,
    );
    const unknown = await recdeploy('rollback', 'rec-nope', '--data-dir', bench.dataDir);
    assert.equal(unknown.code, 1);
    assert.equal(
      unknown.stderr,
      'recdeploy: service rec-nope does not exist on the serving platform (services with a live run: rec-recs-home)',
    );
    assert.equal(await bench.servedBy(serviceUrl), 'rec-recs-home-r1', 'refusals changed nothing');
  });
});
