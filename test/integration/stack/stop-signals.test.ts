/**
 * Stopping `recdeploy start` (issue "The first hour": Ctrl-C stopped
 * uncleanly 4 times in 5): the real stack (--no-sample) in its own process
 * group, stopped by each way a stop arrives. Every case: "stopped" printed,
 * the documented exit code, no process of the group left, none of the ports
 * it announced still accepting connections, and no stack.json.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { accepts } from '../../support/loopback-ports.js';
import {
  groupMembers,
  killAllStartedStacks,
  sleep,
  spawnStack,
  stackOutput,
  stackOutputTail,
  waitForOutput,
  waitUntilUp,
  type StackProcess,
} from '../../support/stack/stack-process.js';

/** The stop's "same request" window (cli/src/stack/stop-signals.ts SAME_REQUEST_MS) and some. */
const PAST_SAME_REQUEST_MS = 1_500;

describe('recdeploy start stops cleanly however the stop arrives', function () {
  this.timeout(120_000);
  let dataDir: string;
  let logFile: string;

  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'recdeploy-stop-'));
    logFile = `${dataDir}.out`;
  });
  afterEach(killAllStartedStacks);
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await rm(logFile, { force: true });
  });

  async function started(label: string): Promise<StackProcess> {
    const stack = spawnStack({ dataDir, logFile, label, logLevel: 'info' });
    await waitUntilUp(stack, 90_000);
    await waitForOutput(stack, /serving; press Ctrl-C to stop/);
    return stack;
  }

  /** The checks every case shares; returns what the stack printed. */
  async function assertStoppedCleanly(stack: StackProcess, stoppedLine: RegExp): Promise<string> {
    const ports = announcedPorts(stackOutput(stack));
    assert.ok(
      ports.length >= 4,
      `functions and dashboard ports announced:\n${stackOutputTail(stack)}`,
    );
    const code = await Promise.race([stack.exited, sleep(60_000).then(() => 'still running')]);
    assert.equal(code, 0, `exit code\n${stackOutputTail(stack)}`);
    const output = stackOutput(stack);
    assert.match(output, stoppedLine);
    assert.deepEqual(await groupLeftAfterExit(stack.pid), [], 'no process of the group is left');
    for (const port of ports) {
      assert.equal(await accepts(port), false, `port ${port} no longer accepts connections`);
    }
    assert.equal(fs.existsSync(path.join(dataDir, 'stack.json')), false, 'stack.json removed');
    return output;
  }

  it("SIGINT to the whole group (a terminal's Ctrl-C)", async () => {
    const stack = await started('SIGINT to the group');
    process.kill(-stack.pid, 'SIGINT');
    const output = await assertStoppedCleanly(stack, /^stopped$/m);
    assert.doesNotMatch(output, /stopped \(forced\)/, 'one Ctrl-C is one stop, not a forced one');
  });

  it('SIGINT to the process alone', async () => {
    const stack = await started('SIGINT to the process');
    process.kill(stack.pid, 'SIGINT');
    await assertStoppedCleanly(stack, /^stopped$/m);
  });

  it('SIGINT twice quickly: one stop (a group signal plus a launcher passing it on)', async () => {
    const stack = await started('SIGINT twice quickly');
    process.kill(stack.pid, 'SIGINT');
    process.kill(stack.pid, 'SIGINT');
    const output = await assertStoppedCleanly(stack, /^stopped$/m);
    assert.equal(output.match(/stopping:/g)?.length, 1, 'stopped once');
  });

  it('SIGTERM', async () => {
    const stack = await started('SIGTERM');
    process.kill(stack.pid, 'SIGTERM');
    const output = await assertStoppedCleanly(stack, /^stopped$/m);
    assert.match(output, /SIGTERM: stopping/);
  });

  it('SIGINT while the sample model trains: stopped at once, no half-trained model kept', async () => {
    // A data directory of its own: training happens only where no sample model is.
    const fresh = await mkdtemp(path.join(os.tmpdir(), 'recdeploy-stop-train-'));
    try {
      const stack = spawnStack({
        dataDir: fresh,
        logFile,
        label: 'SIGINT in training',
        sample: true,
      });
      // The trainer's own line: training has begun, on its worker thread.
      await waitForOutput(stack, /training on the \w+ backend/);
      process.kill(-stack.pid, 'SIGINT');
      const code = await Promise.race([stack.exited, sleep(60_000).then(() => 'still running')]);
      assert.equal(code, 130, `exit code of a start stopped by SIGINT\n${stackOutputTail(stack)}`);
      // Heard during training, not after it: training on the main thread would
      // leave the signal waiting until its last epoch and its evaluation.
      const output = stackOutput(stack);
      assert.doesNotMatch(
        output,
        /epoch 5\/5|recall@100 on \d+ held-out/,
        'training was cut short',
      );
      assert.match(stackOutput(stack), /^stopped$/m);
      assert.deepEqual(await groupLeftAfterExit(stack.pid), [], 'no process of the group is left');
      const models = path.join(fresh, 'models');
      const kept = fs.existsSync(models) ? fs.readdirSync(models) : [];
      assert.deepEqual(
        kept.filter((name) => name.startsWith('sample')),
        [],
        'neither a sample model nor its half-written staging directory',
      );
      assert.equal(fs.existsSync(path.join(fresh, 'stack.json')), false, 'stack.json removed');
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it('a second SIGINT while the stop hangs forces it: what remains is killed', async () => {
    const stack = await started('SIGINT, then again while the stop hangs');
    // A dashboard that does not answer SIGTERM holds the stop up (5 s until its SIGKILL).
    const dashboard = groupMembers(stack.pid).find((pid) => commandLine(pid).includes('dashboard'));
    assert.ok(dashboard !== undefined, 'the dashboard process is in the group');
    process.kill(dashboard, 'SIGSTOP');
    process.kill(stack.pid, 'SIGINT');
    await waitForOutput(stack, /stopping:/);
    // Past the window in which a second signal is the same request.
    await sleep(PAST_SAME_REQUEST_MS);
    process.kill(stack.pid, 'SIGINT');
    await assertStoppedCleanly(stack, /^stopped \(forced\)$/m);
  });
});

/** The loopback ports of the functions and the dashboard, from the lines that announce them. */
function announcedPorts(output: string): number[] {
  const lines = output.split('\n').filter((line) => /^(functions|dashboard): /.test(line));
  return [...lines.join('\n').matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
}

/** The group's live members once its leader has exited (killed children take a moment to go). */
async function groupLeftAfterExit(pgid: number): Promise<number[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const left = groupMembers(pgid);
    if (left.length === 0 || Date.now() > deadline) return left;
    await sleep(50);
  }
}

function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}
