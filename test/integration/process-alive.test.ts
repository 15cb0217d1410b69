/**
 * isProcessAlive, which the local platform uses to tell a running revision
 * from a dead one (and the tests use to check that processes were stopped),
 * against real processes: running, exited and reaped, and a zombie.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { isProcessAlive } from '@recdeploy/shared/local';

describe('isProcessAlive', () => {
  it('is true for a running process and false once it has exited and been reaped', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const pid = child.pid ?? 0;
    assert.equal(isProcessAlive(pid), true);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    assert.equal(isProcessAlive(pid), false);
  });

  it('counts a zombie (exited, not reaped by its parent) as gone, though signal 0 still reaches it', async () => {
    // The shell starts a short sleep, prints its pid and becomes a long sleep,
    // which never reaps its child: the short one stays a zombie until the long one ends.
    const parent = spawn('sh', ['-c', 'sleep 0.1 & echo $!; exec sleep 30'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      const zombie = Number(
        await new Promise<string>((resolve) =>
          parent.stdout.once('data', (d) => resolve(String(d))),
        ),
      );
      assert.ok(zombie > 0);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.doesNotThrow(() => process.kill(zombie, 0), 'the zombie still has its pid');
      assert.equal(isProcessAlive(zombie), false);
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
