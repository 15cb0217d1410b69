/**
 * `recdeploy runs | head -1` and `recdeploy status <run> | head -1`: a reader
 * that goes away ends the output quietly (exit 0, nothing on stderr) instead
 * of an EPIPE stack trace. Real processes through cli/bin/recdeploy.js.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, recdeployProcess, type CliResult } from './cli-harness.js';
import { dataDirWithRuns, type ManyRuns } from './many-runs.js';

const LAUNCHER = path.join(ROOT, 'cli/bin/recdeploy.js');
/** Linux's default pipe capacity; twice it leaves a write that must fail after `head` leaves. */
const PIPE_BUFFER_BYTES = 64 * 1024;

/**
 * Runs `recdeploy …args | head -n 1` in bash, as a person would: a real pipe
 * (64 KiB) whose reader exits after the first line. Resolves with what head
 * printed, the CLI's own exit code and its stderr.
 */
function pipedToHead(args: readonly string[]): Promise<CliResult> {
  const errFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-epipe-')), 'err');
  const script = '"$@" 2>"$ERR_FILE" | head -n 1; echo "${PIPESTATUS[0]}" >&2';
  const child = spawn('bash', ['-c', script, 'bash', process.execPath, LAUNCHER, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ERR_FILE: errFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let status = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (status += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', () => {
      const stderr = fs.readFileSync(errFile, 'utf8');
      fs.rmSync(path.dirname(errFile), { recursive: true, force: true });
      resolve({ code: Number(status.trim()), stdout, stderr });
    });
  });
}

/**
 * Runs `recdeploy …args` with its stdout's reading end closed before the
 * process starts, so its first write fails whatever the output's size.
 */
function readerGoneBeforeStart(args: readonly string[]): Promise<CliResult> {
  const child = spawn(process.execPath, [LAUNCHER, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.destroy();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: '', stderr }));
  });
}

describe('recdeploy output into a reader that goes away', function () {
  this.timeout(90_000);
  let runs: ManyRuns;

  before(async () => {
    // Long ids make table lines of ~330 characters: 500 runs are ~160 KiB.
    runs = await dataDirWithRuns(500, {
      trainingRunPrefix: 'recs-two-tower-training-pipeline-nightly-20301231-120000-attempt-',
      endpoints: ['recs-home-page-personalised-carousel-for-returning-customers', 'recs-cart'],
    });
  });
  after(() => runs.remove());

  it('runs | head -1 prints the header and exits 0 with nothing on stderr', async () => {
    const args = ['runs', '--limit', '500', '--data-dir', runs.dataDir];
    const whole = await recdeployProcess(args);
    assert.equal(whole.code, 0, whole.stderr);
    // More than head's read plus a full pipe: the CLI is still writing when head exits.
    assert.ok(whole.stdout.length > 2 * PIPE_BUFFER_BYTES, `${whole.stdout.length} bytes`);

    const piped = await pipedToHead(args);
    assert.match(piped.stdout, /^RUN\s+STATUS\s+ENDPOINT/);
    assert.equal(piped.stdout.split('\n').filter(Boolean).length, 1, piped.stdout);
    assert.equal(piped.stderr, '');
    assert.equal(piped.code, 0);
  });

  it('status <run> into a closed pipe exits 0 with nothing on stderr', async () => {
    const runId = runs.runIds[0] ?? '';
    const args = ['status', runId, '--data-dir', runs.dataDir];
    const whole = await recdeployProcess(args);
    assert.equal(whole.code, 0, whole.stderr);
    assert.match(whole.stdout, new RegExp(runId));

    const gone = await readerGoneBeforeStart(args);
    assert.equal(gone.stderr, '');
    assert.equal(gone.code, 0);
  });
});
