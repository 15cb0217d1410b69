/**
 * `recdeploy status --watch` as a real child process on a real SQLite run
 * store written by a second store handle: it stays up while nothing changes,
 * ends when the run does, and stops on Ctrl-C (exit 130) or --timeout (exit 1).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runKey } from '@recdeploy/shared';
import { SqliteRunStore } from '@recdeploy/shared/local';
import { sampleIdentity } from '../../fixtures/runs.js';
import {
  completeStep,
  patchFor,
  recdeploy,
  startRecdeployProcess,
  SERVING,
} from './cli-harness.js';

describe('recdeploy status --watch', function () {
  this.timeout(30_000);
  let dataDir: string;
  let store: SqliteRunStore;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-cli-watch-'));
    store = new SqliteRunStore({ file: path.join(dataDir, 'runs.db'), pollIntervalMs: 20 });
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('--watch, as a child process: stays up while waiting, exits 0 when the run goes live', async () => {
    const identity = sampleIdentity();
    const runId = runKey(identity);
    await store.createRun(identity);
    const watcher = startRecdeployProcess(['status', runId, '--watch', '--data-dir', dataDir]);
    await watcher.waitForStderr(/recs-home-train-001 is received/);
    // Nothing changes for a while: the watching process must not exit on its own.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(watcher.child.exitCode, null, watcher.stderr());
    for (const step of ['register', 'deploy', 'verify'] as const) {
      await completeStep(store, runId, step, patchFor(step, SERVING));
    }
    const { code, stdout, stderr } = await watcher.exited;
    assert.equal(code, 0, stderr);
    assert.match(stderr, /verifying → live/);
    assert.match(stdout, /^run {7}recs-home-train-001\nstatus {4}live /);
  });

  it('--watch, as a child process: Ctrl-C stops it with exit 130 (128 + SIGINT) and the run as it stands', async () => {
    const identity = sampleIdentity();
    const runId = runKey(identity);
    await store.createRun(identity);
    const watcher = startRecdeployProcess(['status', runId, '--watch', '--data-dir', dataDir]);
    await watcher.waitForStderr(/recs-home-train-001 is received/);
    watcher.child.kill('SIGINT');
    const { code, stdout, stderr } = await watcher.exited;
    assert.equal(code, 130, stderr);
    assert.match(stdout, /^run {7}recs-home-train-001\nstatus {4}received /);
    assert.match(stderr, /\nrecdeploy: interrupted: run recs-home-train-001 is still received\n$/);
  });

  it('--watch --timeout stops waiting with exit 1 and says where the run stands', async () => {
    const identity = sampleIdentity();
    await store.createRun(identity);
    const started = Date.now();
    const { code, stderr } = await recdeploy(
      'status',
      runKey(identity),
      '--watch',
      '--timeout',
      '1',
      '--data-dir',
      dataDir,
    );
    assert.equal(code, 1);
    assert.ok(Date.now() - started >= 1_000);
    assert.match(
      stderr,
      /recdeploy: no end within 1 s: run recs-home-train-001 is still received$/,
    );
  });
});
