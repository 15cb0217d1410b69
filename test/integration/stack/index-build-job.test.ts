/**
 * The long-build path of the deploy step, end to end on the local stack: with
 * INDEX_BUILD_INLINE_MAX_S tiny, even the sample catalogue counts as too big
 * to index inside the function, so deploy starts the index-build job (a child
 * process on one machine, a Cloud Run job in the cloud), releases the step and
 * acknowledges; the job stores the index and publishes model-registered again,
 * and the run continues to live.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runKey } from '@recdeploy/shared';
import { SqliteRunStore } from '@recdeploy/shared/local';
import { SAMPLE_RUN } from '../../../cli/src/stack/local-stack.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = path.join(ROOT, 'cli/bin/recdeploy.js');

describe('recdeploy start: an index too big for the function is built by the index-build job', function () {
  this.timeout(240_000);
  let dataDir: string;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'recdeploy-index-job-'));
  });
  after(async () => rm(dataDir, { recursive: true, force: true }));

  it('deploys after the job has stored the index, and the run records the wait', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'start', '--data-dir', dataDir, '--products', '300', '--exit-when-live', '--json'],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          INDEX_BUILD_INLINE_MAX_S: '0.001',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, `${stdout}\n${stderr}`);
    assert.equal((JSON.parse(stdout) as { run: { status: string } }).run.status, 'live');

    const store = new SqliteRunStore({ file: path.join(dataDir, 'runs.db') });
    const run = await store.getRun(runKey(SAMPLE_RUN));
    await store.close();
    assert.equal(run?.status, 'live');
    // Attempt 1 started the job and let go of the step; attempt 2 found the index.
    assert.equal(run?.steps.deploy.attempts, 2);
    assert.ok(
      run?.history.some((h) => /INDEX\.BUILDING/.test(h.reason ?? '')),
      JSON.stringify(run?.history, null, 2),
    );
    const status = JSON.parse(
      fs.readFileSync(path.join(dataDir, 'index-builds', `${run.runId}.json`), 'utf8'),
    ) as { state: string };
    assert.equal(status.state, 'succeeded');
    assert.ok(fs.existsSync(path.join(dataDir, 'models/sample/ann/index/index.json')));
  });
});
