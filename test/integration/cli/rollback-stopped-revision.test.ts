/**
 * `recdeploy rollback --to` an older revision whose process is stopped, on a
 * real LocalProcessPlatform (rollback-platform-bench.ts): refused while a
 * stack runs (a process the command started would die with it); recorded for
 * the next start of the stack when none runs.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunDocument } from '@recdeploy/shared';
import { isProcessAlive } from '@recdeploy/shared/local';
import { writeTinyBundle } from '../../support/ann/tiny-bundle.js';
import { recdeploy } from './cli-harness.js';
import { PlatformBench, SERVICE } from './rollback-platform-bench.js';

describe('recdeploy rollback to a stopped revision (real local serving platform)', function () {
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

  it('refuses a stopped revision while the stack runs; without a stack, records it for the next start', async () => {
    await bench.deployLive(1);
    await bench.deployLive(2);
    const three = await bench.deployLive(3);
    const listed = bench.stack?.listRevisions(SERVICE).map((r) => [r.revision, r.state, r.running]);
    assert.deepEqual(listed, [
      ['rec-recs-home-r1', 'stopped', false],
      ['rec-recs-home-r2', 'ready', true],
      ['rec-recs-home-r3', 'ready', true],
    ]);
    bench.pretendStackRuns();

    const refused = await recdeploy(
      'rollback',
      SERVICE,
      '--to',
      'rec-recs-home-r1',
      '--data-dir',
      bench.dataDir,
    );
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      `recdeploy: revision rec-recs-home-r1 of service rec-recs-home is not running (stopped), and a process this command started would stop when it exits while the stack (pid ${process.pid}) routed traffic to it. Stop the stack (Ctrl-C), run this rollback again, then start the stack (npm start): it starts the revision that is live`,
    );
    assert.equal((await bench.store.getRun(three.runId))?.status, 'live');

    // The stack stops (its processes with it); the rollback is recorded for its next start.
    bench.stopPretending();
    await bench.stack?.close();
    bench.stack = undefined;
    const { code, stdout, stderr } = await recdeploy(
      'rollback',
      SERVICE,
      '--to',
      'rec-recs-home-r1',
      '--json',
      '--data-dir',
      bench.dataDir,
    );
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as Record<string, unknown>;
    assert.equal(report.fromRevision, 'rec-recs-home-r3');
    assert.equal(report.toRevision, 'rec-recs-home-r1');
    assert.equal(report.targetSource, 'requested');
    assert.equal(report.rolledBackRunId, three.runId);
    assert.equal(report.rolledBackStatus, 'rolled_back');
    assert.equal((report.run as RunDocument).status, 'rolled_back');
    assert.deepEqual(report.servingNow, {
      revision: 'rec-recs-home-r1',
      runId: 'recs-home-train-1',
      status: 'live',
      traffic: [{ revision: 'rec-recs-home-r1', percent: 100 }],
    });
    assert.deepEqual(
      (report.published as { runId: string; outcome: string }[]).map((m) => [m.runId, m.outcome]),
      [
        [three.runId, 'rolled_back'],
        ['recs-home-train-1', 'live'],
      ],
    );
    assert.match(
      stderr,
      /^revision rec-recs-home-r1 is not running: starting it to check that it serves/,
    );
    assert.match(
      stderr,
      /\nno local stack is running on .*: service rec-recs-home serves revision rec-recs-home-r1 at http:\/\/127\.0\.0\.1:\d+ once it starts \(npm start\); the process started for the check stops with this command$/,
    );
    assert.deepEqual(
      bench.recordedPids().filter(isProcessAlive),
      [],
      'the check process stopped with the command',
    );

    // The next start of the stack brings the rolled-back-to revision up behind the router.
    const stack = bench.openStackPlatform();
    bench.stack = stack;
    const started = await stack.start();
    assert.ok(started.restarted.includes('rec-recs-home-r1'), JSON.stringify(started));
    const traffic = await stack.describe(SERVICE);
    assert.equal(traffic?.liveRevision, 'rec-recs-home-r1');
    assert.equal(await bench.servedBy(traffic?.serviceUrl ?? ''), 'rec-recs-home-r1');
  });
});
