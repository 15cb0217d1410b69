/**
 * One local stack per data directory (issue 11): two `recdeploy start` at the
 * same moment, real processes on one data directory. Exactly one runs; the
 * other exits non-zero naming the holder's pid before it starts anything.
 * After a SIGKILL of the holder's process group the lock is free at once: the
 * kernel dropped it, nothing stale is left to time out.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { rmSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { isProcessAlive } from '@recdeploy/shared/local';
import { acquireStackLock, StackLockedError } from '../../../cli/src/stack/stack-lock.js';
import { readStackHolder, writeStackHolder } from '../../../cli/src/stack/stack-state.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = path.join(ROOT, 'cli/bin/recdeploy.js');

interface Start {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

/** `recdeploy start --no-sample` in its own process group (so the group can be killed). */
function start(dataDir: string): Start {
  const child = spawn(process.execPath, [BIN, 'start', '--no-sample', '--data-dir', dataDir], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      METADATA_SERVER_DETECTION: 'none',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return { child, output: () => output, exited };
}

/** Resolves when `start` has printed its dashboard (it is up), or rejects when it exited. */
async function up(started: Start, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!/dashboard: \S+/.test(started.output())) {
    if (started.child.exitCode !== null)
      throw new Error(`start exited ${started.child.exitCode}:\n${started.output()}`);
    if (Date.now() > deadline) throw new Error(`start not up in time:\n${started.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function killGroup(started: Start): void {
  try {
    process.kill(-started.child.pid!, 'SIGKILL');
  } catch {
    // ESRCH: the group is gone already.
  }
}

async function untilDead(pid: number): Promise<void> {
  while (isProcessAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('one local stack per data directory (stack.lock)', function () {
  this.timeout(120_000);
  let dataDir: string;
  const started: Start[] = [];

  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'recdeploy-stack-lock-'));
  });

  afterEach(async () => {
    for (const s of started.splice(0)) killGroup(s);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('two starts at once: exactly one runs, the other exits non-zero naming its pid; after SIGKILL a new one starts at once', async function () {
    const pair = [start(dataDir), start(dataDir)];
    started.push(...pair);
    const outcomes = await Promise.all(
      pair.map((s) => Promise.race([s.exited, up(s).then(() => 'up' as const)])),
    );
    const winner = pair[outcomes.indexOf('up')];
    const loser = pair[outcomes.findIndex((o) => o !== 'up')];
    assert.ok(winner && loser, `one up, one exited: ${String(outcomes)}`);
    const loserCode = outcomes[pair.indexOf(loser)];
    assert.notEqual(loserCode, 0, 'the loser exits non-zero');

    const holder = readStackHolder(dataDir);
    assert.ok(holder?.dashboardUrl, 'stack.json names the running stack');
    assert.ok(isProcessAlive(holder.pid));
    const named = /a local stack already runs on .* \(pid (\d+), started /.exec(loser.output());
    assert.ok(named, `the loser says who holds the lock:\n${loser.output()}`);
    assert.equal(Number(named[1]), holder.pid, 'the pid it names is the holder');
    assert.doesNotMatch(loser.output(), /functions:|dashboard:/, 'the loser started nothing');

    killGroup(winner);
    await winner.exited;
    await untilDead(holder.pid);
    // The kernel released the lock with its holder (within ms of its last
    // thread exiting): no stale lock, nothing to time out.
    const diedAt = Date.now();
    const lock = await acquireStackLock(dataDir);
    const freeAfterMs = Date.now() - diedAt;
    lock.release();
    assert.ok(freeAfterMs < 500, `lock free ${freeAfterMs} ms after the holder died`);

    const next = start(dataDir);
    started.push(next);
    await up(next);
    const nextHolder = readStackHolder(dataDir);
    assert.ok(nextHolder && nextHolder.pid !== holder.pid && isProcessAlive(nextHolder.pid));
    next.child.kill('SIGINT');
    assert.equal(await next.exited, 0, next.output());
    assert.equal(readStackHolder(dataDir), undefined, 'a clean stop removes stack.json');
    this.test!.title += ` (lock free ${freeAfterMs} ms after the holder died)`;
  });

  it('is not re-entrant: a second acquisition in the same process is refused; release frees it', async () => {
    const lock = await acquireStackLock(dataDir);
    try {
      await assert.rejects(acquireStackLock(dataDir), /this process already holds .*stack\.lock/);
      // Also through another name for the same directory.
      const link = `${dataDir}-link`;
      symlinkSync(dataDir, link);
      try {
        await assert.rejects(acquireStackLock(link), /this process already holds/);
      } finally {
        rmSync(link);
      }
    } finally {
      lock.release();
      lock.release(); // idempotent
    }
    const again = await acquireStackLock(dataDir);
    again.release();
  });

  it('a refused start names the holder from stack.json, or says it has not named itself', async () => {
    // The holder is a child process; this process writes stack.json for it.
    const holder = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { acquireStackLock } from './cli/src/stack/stack-lock.ts';
         await acquireStackLock(process.env.DATA_DIR);
         process.stdout.write('locked\\n');
         setInterval(() => {}, 1000);`,
      ],
      {
        cwd: ROOT,
        env: { ...process.env, DATA_DIR: dataDir },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.once('data', () => resolve());
        holder.once('exit', (code) => reject(new Error(`holder exited ${code}`)));
      });
      const error = await acquireStackLock(dataDir).then(
        () => assert.fail('taken twice'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof StackLockedError);
      assert.equal(error.holder, undefined);
      assert.match(error.message, /another process holds .*stack\.lock and has not named itself/);

      writeStackHolder(dataDir, { pid: holder.pid!, startedAt: '2025-01-01T00:00:00.000Z' });
      await assert.rejects(
        acquireStackLock(dataDir),
        new RegExp(`\\(pid ${holder.pid}, started 2025-01-01T00:00:00.000Z, still starting\\)`),
      );
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
