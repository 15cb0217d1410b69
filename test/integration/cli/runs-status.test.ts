/**
 * `recdeploy runs` and `recdeploy status` on a real SQLite run store, written
 * by a second store handle as the chain's functions write it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runKey, type RunDocument } from '@recdeploy/shared';
import { SqliteRunStore } from '@recdeploy/shared/local';
import { sampleIdentity } from '../../fixtures/runs.js';
import {
  completeStep,
  liveRun,
  patchFor,
  recdeploy,
  recdeployProcess,
  SERVING,
} from './cli-harness.js';

describe('recdeploy runs and status', function () {
  this.timeout(30_000);
  let dataDir: string;
  let store: SqliteRunStore;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-cli-runs-'));
    store = new SqliteRunStore({ file: path.join(dataDir, 'runs.db'), pollIntervalMs: 20 });
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function threeRuns(): Promise<RunDocument[]> {
    const live = await liveRun(store, sampleIdentity(), SERVING);
    await store.createRun(sampleIdentity({ trainingRunId: 'train-002', runNumber: 2 }));
    const failedId = runKey({ modelEndpointId: 'recs-home', trainingRunId: 'train-002' });
    await store.claimStep({ runId: failedId, step: 'register', owner: 't', leaseMs: 60_000 });
    await store.failStep({
      runId: failedId,
      step: 'register',
      owner: 't',
      permanent: true,
      error: {
        code: 'ARTIFACT.NOT_FOUND',
        message: 'gs://models/recs-home/2 has no saved_model.pb',
      },
    });
    await store.createRun(
      sampleIdentity({ modelEndpointId: 'search', trainingRunId: 'train-009', runNumber: 9 }),
    );
    const runs = await store.listRuns();
    assert.equal(runs.length, 3);
    assert.equal(live.status, 'live');
    return [...runs];
  }

  describe('runs', () => {
    it('prints a table, newest first, with status, runtime, revision, traffic and notes', async () => {
      await threeRuns();
      const { code, stdout, stderr } = await recdeploy('runs', '--data-dir', dataDir);
      assert.equal(code, 0, stderr);
      const lines = stdout.split('\n');
      assert.equal(lines.length, 4, stdout);
      assert.match(
        lines[0] ?? '',
        /^RUN\s+STATUS\s+ENDPOINT\s+RUN NO\s+RUNTIME\s+REVISION\s+TRAFFIC\s+AGE\s+NOTES$/,
      );
      assert.match(lines[1] ?? '', /^search-train-009\s+received\s+search\s+9\s+-\s+-\s+-\s+\d+s$/);
      assert.match(
        lines[2] ?? '',
        /^recs-home-train-002\s+failed\s+recs-home\s+2\s+-\s+-\s+-\s+\d+s\s+register attempt 1 failed: ARTIFACT\.NOT_FOUND: gs:\/\/models\/…$/,
      );
      assert.match(
        lines[3] ?? '',
        /^recs-home-train-001\s+live\s+recs-home\s+1\s+ann-serving\/ann\s+rec-recs-home-r1-0a1b2c3d\s+100%\s+\d+s$/,
      );
    });

    it('filters by endpoint and status, and bounds the count', async () => {
      await threeRuns();
      const byEndpoint = await recdeploy(
        'runs',
        '--data-dir',
        dataDir,
        '--endpoint',
        'recs-home',
        '--json',
      );
      assert.deepEqual(
        (JSON.parse(byEndpoint.stdout) as RunDocument[]).map((r) => r.runId),
        ['recs-home-train-002', 'recs-home-train-001'],
      );
      const live = await recdeploy('runs', '--data-dir', dataDir, '--status', 'live', '--json');
      assert.deepEqual(
        (JSON.parse(live.stdout) as RunDocument[]).map((r) => r.runId),
        ['recs-home-train-001'],
      );
      const one = await recdeploy('runs', '--data-dir', dataDir, '--limit', '1');
      assert.equal(one.stdout.split('\n').length, 2);
      const none = await recdeploy('runs', '--data-dir', dataDir, '--status', 'rolled_back');
      assert.equal(none.code, 0);
      assert.equal(none.stdout, '');
      assert.match(none.stderr, /^no runs match in .*runs\.db$/);
    });

    it('--json, from a real child process: exactly the stored documents on stdout', async () => {
      const runs = await threeRuns();
      const { code, stdout, stderr } = await recdeployProcess([
        'runs',
        '--json',
        '--data-dir',
        dataDir,
      ]);
      assert.equal(code, 0, stderr);
      assert.deepEqual(JSON.parse(stdout), runs);
    });

    it('reports a data directory without a store on stderr and creates nothing', async () => {
      const empty = path.join(dataDir, 'elsewhere');
      const { code, stdout, stderr } = await recdeploy('runs', '--data-dir', empty, '--json');
      assert.equal(code, 0);
      assert.deepEqual(JSON.parse(stdout), []);
      assert.equal(
        stderr,
        `no runs yet: ${path.join(empty, 'runs.db')} does not exist; data directory ${empty} (from --data-dir); point to another with --data-dir <dir> or RECDEPLOY_DATA_DIR`,
      );
      assert.equal(fs.existsSync(empty), false);
    });
  });

  describe('status', () => {
    it('shows one run in detail, or its document with --json', async () => {
      const [, , live] = await threeRuns();
      const text = await recdeploy('status', 'recs-home-train-001', '--data-dir', dataDir);
      assert.equal(text.code, 0, text.stderr);
      const lines = text.stdout.split('\n');
      assert.equal(lines[0], 'run       recs-home-train-001');
      assert.match(lines[1] ?? '', /^status {4}live \(since \d+s ago\)$/);
      assert.ok(lines.includes('  service   rec-recs-home'), text.stdout);
      assert.ok(
        lines.some((line) => /^ {2}traffic {3}100% of service rec-recs-home since /.test(line)),
        text.stdout,
      );
      assert.ok(lines.includes('  url       http://127.0.0.1:40000'), text.stdout);
      assert.ok(lines.includes('  pass  model_available'), text.stdout);

      const json = await recdeploy(
        'status',
        'recs-home-train-001',
        '--data-dir',
        dataDir,
        '--json',
      );
      assert.deepEqual(JSON.parse(json.stdout), live);
    });

    it('an unknown run: exit 1 with the closest run ids', async () => {
      await threeRuns();
      const { code, stdout, stderr } = await recdeploy(
        'status',
        'recs-home-train-01',
        '--data-dir',
        dataDir,
      );
      assert.equal(code, 1);
      assert.equal(stdout, '');
      assert.equal(
        stderr,
        `recdeploy: run recs-home-train-01 not found in ${path.join(dataDir, 'runs.db')}; did you mean recs-home-train-001, recs-home-train-002?`,
      );
      const far = await recdeploy('status', 'nothing-like-it', '--data-dir', dataDir);
      assert.equal(far.code, 1);
      assert.match(far.stderr, /not found in .*; `recdeploy runs` lists the runs$/);
    });

    it('--watch returns 0 once a run written by another store handle goes live', async () => {
      const identity = sampleIdentity();
      const runId = runKey(identity);
      await store.createRun(identity);
      const watching = recdeploy('status', runId, '--watch', '--data-dir', dataDir);
      for (const step of ['register', 'deploy', 'verify'] as const) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        await completeStep(store, runId, step, patchFor(step, SERVING));
      }
      const { code, stdout, stderr } = await watching;
      assert.equal(code, 0, stderr);
      const progress = stderr.split('\n').map((line) => line.replace(/^\d\d:\d\d:\d\d {2}/, ''));
      assert.equal(progress[0], 'recs-home-train-001 is received');
      for (const expected of [
        'received → registering',
        'register: attempt 1 started',
        'registered → deploying',
        'deploy: succeeded',
        'verifying → live',
        'serving at http://127.0.0.1:40000 (revision rec-recs-home-r1-0a1b2c3d)',
      ]) {
        assert.ok(
          progress.some((line) => line.startsWith(expected)),
          `no "${expected}" in:\n${stderr}`,
        );
      }
      assert.match(stdout, /^run {7}recs-home-train-001\nstatus {4}live /);
    });

    it('--watch waits for a run that does not exist yet, and exits 1 when it fails', async () => {
      const identity = sampleIdentity({ trainingRunId: 'train-late' });
      const runId = runKey(identity);
      const watching = recdeploy('status', runId, '--watch', '--json', '--data-dir', dataDir);
      await new Promise((resolve) => setTimeout(resolve, 150));
      await store.createRun(identity);
      await store.claimStep({ runId, step: 'register', owner: 't', leaseMs: 60_000 });
      await store.failStep({
        runId,
        step: 'register',
        owner: 't',
        permanent: true,
        error: { code: 'REGISTRY.REJECTED', message: 'the registry refused the upload' },
      });
      const { code, stdout, stderr } = await watching;
      assert.equal(code, 1);
      assert.match(
        stderr,
        /^run recs-home-train-late does not exist yet; waiting for it \(there are no runs yet\)/,
      );
      assert.match(
        stderr,
        /register: failed after 1 attempt: REGISTRY\.REJECTED: the registry refused the upload/,
      );
      assert.match(
        stderr,
        /\nrecdeploy: run recs-home-train-late ended failed: .*the registry refused the upload$/,
      );
      const printed = JSON.parse(stdout) as RunDocument;
      assert.equal(printed.status, 'failed');
      assert.deepEqual(printed, await store.getRun(runId));
    });
  });
});
