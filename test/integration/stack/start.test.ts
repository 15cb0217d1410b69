/**
 * `recdeploy start` (what `npm start` runs) as a user runs it: a real child
 * process on a fresh data directory. It trains the sample model, deploys it
 * through the whole chain, prints a prediction URL and a curl command that
 * work; Ctrl-C stops every child process; a second start reuses the state.
 * Piped (not a terminal), it tells each phase as one plain line with its
 * duration, in order, with no JSON and no stack trace on stderr (those go to
 * {dataDir}/logs/stack.log), and a run published later gets its one line.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { isProcessAlive } from '@recdeploy/shared/local';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = path.join(ROOT, 'cli/bin/recdeploy.js');

interface Started {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

function start(dataDir: string): Started {
  const child = spawn(
    process.execPath,
    [BIN, 'start', '--data-dir', dataDir, '--products', '300'],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        METADATA_SERVER_DETECTION: 'none',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Waits for `pattern` in stdout (what it prints for scripts), or stderr with `stream`. */
async function waitForOutput(
  started: Started,
  pattern: RegExp,
  timeoutMs: number,
  stream: 'stdout' | 'stderr' = 'stdout',
): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(started[stream]());
    if (match) return match;
    if (started.child.exitCode !== null) {
      throw new Error(
        `start exited ${started.child.exitCode}:\n${started.stdout()}\n${started.stderr()}`,
      );
    }
    if (Date.now() > deadline)
      throw new Error(`no ${pattern} in time:\n${started.stdout()}\n${started.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The first start's stderr (a pipe, so no spinner): the data directory
 * first, then one line per phase in order, each with its duration, and
 * nothing for a machine: no JSON line, no stack trace.
 */
function assertPhasesTold(stderr: string, dataDir: string): void {
  const lines = stderr.split('\n');
  assert.equal(lines[0], `data directory ${dataDir} (from --data-dir)`);
  const phases = ['train', 'register', 'index', 'deploy', 'verify'];
  const found = phases.map((phase) =>
    lines.findIndex((line) => new RegExp(`^✔ ${phase}: .+ \\(${DURATION}\\)$`).test(line)),
  );
  assert.ok(
    found.every((index, i) => index > 0 && (i === 0 || index > found[i - 1]!)),
    `phase lines ${phases.join(', ')} in order, each with a duration:\n${stderr}`,
  );
  assert.match(lines[found[2]!]!, /^✔ index: built, ef \d+/);
  assert.ok(!lines.some((line) => line.trimStart().startsWith('{')), `no JSON line:\n${stderr}`);
  assert.doesNotMatch(stderr, /^\s+at /m, 'no stack trace');
  assert.ok(!stderr.includes('\u001b['), 'no escape sequences (nothing animated) on a pipe');
}

/** The serving processes the platform recorded, and whether each is alive. */
function servingPids(dataDir: string): number[] {
  const db = new Database(path.join(dataDir, 'serving.db'), { readonly: true });
  try {
    const rows = db.prepare('SELECT pid FROM serving_revisions WHERE pid IS NOT NULL').all() as {
      pid: number;
    }[];
    return rows.map((row) => row.pid);
  } finally {
    db.close();
  }
}

/** Runs the printed curl command's request (the same URL and body) with fetch. */
async function runCurl(curl: string): Promise<{
  status: number;
  revision: string | null;
  body: { predictions?: { product_ids: unknown[] }[] };
}> {
  const match = /^curl -s -d '(.*)' (\S+)$/.exec(curl);
  assert.ok(match, `unexpected curl line: ${curl}`);
  const response = await fetch(match[2]!, { method: 'POST', body: match[1]! });
  return {
    status: response.status,
    revision: response.headers.get('x-recdeploy-revision'),
    body: (await response.json()) as { predictions?: { product_ids: unknown[] }[] },
  };
}

const FIRST_RUN = 'local-sample-sample-run-1';
/** How the stack prints a duration (output/phase-narrator.ts formatSeconds), as a pattern. */
const DURATION = '(?:\\d+\\.\\d s|\\d+ min \\d\\d s)';
const SECOND_RUN = 'local-sample-sample-run-2';

/** Publishes run 2 of the sample endpoint (the same bundle) with `recdeploy publish`. */
async function publishSecondRun(dataDir: string): Promise<void> {
  const bundle = path.join(dataDir, 'models', 'sample');
  const file = path.join(dataDir, 'run-2.json');
  await writeFile(
    file,
    JSON.stringify({
      schema_version: '1',
      training_run_id: 'sample-run-2',
      model_endpoint_id: 'local-sample',
      model_slug: 'sample-two-tower',
      run_number: 2,
      model_type: 'retrieval',
      retrieval_algorithm: 'hnsw',
      artifact_uri: pathToFileURL(bundle).href,
      is_blessed: true,
      metrics: {},
    }),
  );
  const published = spawnSync(process.execPath, [BIN, 'publish', file, '--data-dir', dataDir], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(published.status, 0, published.stderr);
}

function statusOf(dataDir: string, runId: string): string | undefined {
  const db = new Database(path.join(dataDir, 'runs.db'), { readonly: true });
  try {
    const row = db.prepare('SELECT status FROM deployments WHERE id = ?').get(runId) as
      { status: string } | undefined;
    return row?.status;
  } finally {
    db.close();
  }
}

async function waitForStatus(
  dataDir: string,
  runId: string,
  status: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen: string | undefined;
  while (Date.now() < deadline) {
    seen = statusOf(dataDir, runId);
    if (seen === status) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.fail(`${runId} is ${seen ?? 'absent'}, not ${status}, after ${timeoutMs} ms`);
}

describe('recdeploy start (npm start): the local stack end to end', function () {
  this.timeout(300_000);
  let dataDir: string;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'recdeploy-start-'));
  });
  after(async () => rm(dataDir, { recursive: true, force: true }));

  it('deploys the sample model, prints a working curl, stops cleanly on Ctrl-C, and a restart reuses the state', async () => {
    const first = start(dataDir);
    try {
      const predict = await waitForOutput(first, /predict: +(\S+)/, 240_000);
      const curl = (await waitForOutput(first, /try: +(curl .*)\n/, 5_000))[1]!;
      const dashboard = (await waitForOutput(first, /dashboard: (\S+)/, 5_000))[1]!;
      assert.match(
        first.stdout(),
        /rec-local-sample serves revision \S+ of run local-sample-sample-run-1 \(100% since /,
      );
      assert.match(predict[1]!, /^http:\/\/127\.0\.0\.1:\d+\/v1\/models\/recommender:predict$/);
      const answer = await runCurl(curl);
      assert.equal(answer.status, 200);
      assert.equal(answer.body.predictions?.[0]?.product_ids.length, 100);
      assert.equal((await fetch(dashboard)).status, 200);

      assertPhasesTold(first.stderr(), dataDir);

      // A newer run of the sample endpoint takes over while the stack runs...
      await publishSecondRun(dataDir);
      await waitForStatus(dataDir, SECOND_RUN, 'live', 120_000);
      assert.equal(statusOf(dataDir, FIRST_RUN), 'replaced');
      // ...and the stack says so in one line (from the run store's change feed).
      const summary = await waitForOutput(
        first,
        new RegExp(`^run ${SECOND_RUN}: live in .*$`, 'm'),
        30_000,
        'stderr',
      );
      assert.match(
        summary[0],
        new RegExp(
          `: live in ${DURATION} \\(register ${DURATION}, deploy ${DURATION}, verify ${DURATION}; p99 [\\d.]+ ms\\); replaced ${FIRST_RUN}$`,
        ),
      );
      assert.equal(first.stderr().split(`run ${SECOND_RUN}: `).length, 2, 'told once');
      const logLines = (await readFile(path.join(dataDir, 'logs', 'stack.log'), 'utf8'))
        .trimEnd()
        .split('\n');
      assert.ok(logLines.length > 10, 'the functions and adapters logged to the file');
      for (const line of logLines) {
        const entry = JSON.parse(line) as { severity?: unknown; message?: unknown };
        assert.equal(typeof entry.severity, 'string', line);
        assert.equal(typeof entry.message, 'string', line);
      }
      assert.ok(logLines.some((line) => line.includes(`"runId":"${SECOND_RUN}"`)));
      const pids = servingPids(dataDir);
      assert.ok(pids.length >= 1 && pids.every(isProcessAlive), `serving pids ${pids.join(',')}`);

      first.child.kill('SIGINT');
      assert.equal(await first.exited, 0, first.stderr());
      assert.match(first.stderr(), /stopped/);
      assert.deepEqual(pids.filter(isProcessAlive), [], 'every serving process stopped');
      await assert.rejects(fetch(predict[1]!), 'the router is gone');
    } finally {
      first.child.kill('SIGKILL');
    }

    const second = start(dataDir);
    try {
      const curl = (await waitForOutput(second, /try: +(curl .*)\n/, 120_000))[1]!;
      assert.match(second.stderr(), /exists \(replaced\); not publishing it again/);
      assert.doesNotMatch(second.stderr(), /training a two-tower model/);
      // ...and the restart banner names what the router really serves: run 2's revision.
      const banner = /rec-local-sample serves revision (\S+) of run (\S+) \(100%/.exec(
        second.stdout(),
      );
      assert.equal(banner?.[2], SECOND_RUN, second.stdout());
      const answer = await runCurl(curl);
      assert.equal(answer.status, 200);
      assert.equal(answer.revision, banner?.[1], 'the banner names the revision that answers');
      second.child.kill('SIGINT');
      assert.equal(await second.exited, 0, second.stderr());
    } finally {
      second.child.kill('SIGKILL');
    }
  });
});
