import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import type { ServingCommand } from './local-serving-command.js';

/** How often a process that is not our child is checked for having exited. */
const EXIT_POLL_MS = 50;
/** After SIGKILL, how long to wait for the kernel to take the process away. */
const KILL_GRACE_MS = 2_000;

export interface RevisionLaunch {
  readonly command: ServingCommand;
  readonly env: Readonly<Record<string, string>>;
  /** stdout and stderr are appended here. */
  readonly logFile: string;
}

/**
 * One serving process, either started here (a child) or found running after
 * a restart of the platform (adopted by pid). Its output goes to a log file,
 * not a pipe, so it keeps running if the platform process dies, and a later
 * platform can adopt it.
 */
export class RevisionProcess {
  private constructor(
    readonly pid: number,
    private readonly child: ChildProcess | undefined,
  ) {}

  /** Starts the process; rejects when it cannot be started at all (e.g. no such command). */
  static async spawn(launch: RevisionLaunch): Promise<RevisionProcess> {
    const out = fs.openSync(launch.logFile, 'a');
    try {
      const child = spawn(launch.command.command, [...launch.command.args], {
        cwd: launch.command.cwd,
        env: launch.env,
        stdio: ['ignore', out, out],
      });
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
      if (child.pid === undefined) throw new Error('spawned process has no pid');
      return new RevisionProcess(child.pid, child);
    } finally {
      // The child holds its own descriptor; ours is not needed any more.
      fs.closeSync(out);
    }
  }

  /** A process started by an earlier platform, found by its pid. */
  static adopt(pid: number): RevisionProcess {
    return new RevisionProcess(pid, undefined);
  }

  get running(): boolean {
    if (this.child) return this.child.exitCode === null && this.child.signalCode === null;
    return isProcessAlive(this.pid);
  }

  /** How it ended, for error messages ("exited with code 1", "killed by SIGKILL"). */
  describeExit(): string {
    if (this.child?.signalCode) return `was killed by ${this.child.signalCode}`;
    if (this.child && this.child.exitCode !== null)
      return `exited with code ${this.child.exitCode}`;
    return 'exited';
  }

  /** SIGTERM, then SIGKILL if it is still running after `timeoutMs`; resolves once it is gone. */
  async stop(timeoutMs: number): Promise<void> {
    if (!this.running) return;
    this.signal('SIGTERM');
    if (await this.waitForExit(timeoutMs)) return;
    this.signal('SIGKILL');
    await this.waitForExit(KILL_GRACE_MS);
  }

  private signal(signal: NodeJS.Signals): void {
    try {
      process.kill(this.pid, signal);
    } catch (error) {
      // ESRCH: it exited in between, which is what we wanted.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }

  private async waitForExit(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const child = this.child;
    if (child) {
      if (!this.running) return true;
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(!this.running), timeoutMs);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    }
    while (this.running) {
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, EXIT_POLL_MS));
    }
    return true;
  }
}

/**
 * Whether a process with this pid exists and has not exited. A zombie (exited,
 * not yet reaped by a parent that is not us) counts as exited.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // Field 3 of /proc/<pid>/stat is the state; the name before it is in parentheses.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (not Linux): signal 0 is all we have
  }
}
