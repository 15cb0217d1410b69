import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { LocalEventBusStats } from '@recdeploy/shared/local';
import { PushReceiver } from '../support/push-receiver.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPT = path.join(ROOT, 'test/support/run-local-bus.ts');
const MESSAGES = 200;

interface BusProcess {
  readonly child: ChildProcess;
  readonly published: string[];
  drained?: LocalEventBusStats;
  readonly exited: Promise<number | null>;
}

/** Starts the bus in a child process, collecting what it prints. */
function runBus(file: string, endpoint: string, count: number): BusProcess {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', SCRIPT, file, endpoint, String(count)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const proc: BusProcess = {
    child,
    published: [],
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    const event = JSON.parse(line) as { published?: string; drained?: LocalEventBusStats };
    if (event.published) proc.published.push(event.published);
    if (event.drained) proc.drained = event.drained;
  });
  return proc;
}

describe('LocalEventBus across a crash (child process, SIGKILL)', function () {
  this.timeout(30_000);
  let dir: string;
  let receiver: PushReceiver;
  const children: ChildProcess[] = [];

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-bus-restart-'));
    receiver = new PushReceiver();
    // A slow receiver, so a good share of the deliveries is in progress when the bus dies.
    receiver.responder = () => ({ status: 204, delayMs: 25 });
    await receiver.start();
  });

  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await receiver.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('delivers every published message at least once after a SIGKILL mid-delivery', async function () {
    const file = path.join(dir, 'bus.db');
    const first = runBus(file, receiver.url('/work'), MESSAGES);
    children.push(first.child);
    await receiver.waitFor(
      () => first.published.length === MESSAGES && receiver.received.length >= 60,
      'publishing and the first deliveries',
      15_000,
    );
    first.child.kill('SIGKILL');
    // Same tick as the kill: no answer can be sent between the kill and this snapshot.
    const unanswered = receiver.received.filter((p) => p.answeredAt === undefined);
    const idsOf = (pushes: typeof receiver.received) =>
      new Set(pushes.map((p) => String(p.headers['ce-id'])));
    const deliveredBeforeKill = idsOf(receiver.received).size;
    assert.equal(await first.exited, null, 'killed by the signal');
    assert.ok(unanswered.length > 0, 'some deliveries were in progress at the kill');
    assert.ok(deliveredBeforeKill < MESSAGES, 'the kill came mid-delivery');

    const restartedAt = Date.now();
    const second = runBus(file, receiver.url('/work'), 0);
    children.push(second.child);
    const drainedInTime = await Promise.race([
      second.exited.then((code) => code === 0),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 15_000)),
    ]);
    assert.ok(drainedInTime, 'the restarted bus delivers everything left and exits 0');

    const received = idsOf(receiver.received);
    assert.deepEqual([...received].sort(), [...first.published].sort(), 'every message, none lost');
    assert.equal(received.size, MESSAGES);
    const afterRestart = idsOf(receiver.received.filter((p) => p.receivedAt >= restartedAt));
    for (const push of unanswered) {
      assert.ok(afterRestart.has(String(push.headers['ce-id'])), 'unacked → redelivered');
    }
    assert.equal(second.drained?.pending, 0);
    assert.equal(second.drained?.deadLettered, 0);
    assert.equal(second.drained?.acked, MESSAGES, 'each delivery acked exactly once in the store');
    const duplicates = receiver.received.length - MESSAGES;
    this.test!.title += ` (${unanswered.length} in flight at the kill, ${duplicates} duplicates)`;
  });
});
