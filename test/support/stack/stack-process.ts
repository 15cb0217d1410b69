/**
 * `recdeploy start --no-sample` as a real process group, for tests that kill
 * the whole local stack with SIGKILL: the launcher, the stack it runs, the
 * dashboard and every revision (ann-serving) process are in one group, so
 * `process.kill(-pid, 'SIGKILL')` takes them all down at once, as a crash of
 * the machine's program would.
 *
 * Output (stdout and stderr of every start) is appended to one log file, so
 * what a killed stack said survives it and a failure can quote it.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const RECDEPLOY_BIN = path.join(REPO_ROOT, 'cli/bin/recdeploy.js');

export interface StackStart {
  readonly dataDir: string;
  /** Appended to (each start writes a header line first). */
  readonly logFile: string;
  /** Extra environment (LEASE_TTL_S, RECDEPLOY_PAUSE_AT, …) on top of PATH and HOME. */
  readonly env?: Readonly<Record<string, string>>;
  /** --log-level of the stack (default info: the evidence a failure needs). */
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** A label for the header line in the log ("restart after deploy.before-revision"). */
  readonly label?: string;
  /** Create and deploy the sample model (default: --no-sample). */
  readonly sample?: boolean;
}

export interface StackProcess {
  /** The launcher's pid, which is also the process group id. */
  readonly pid: number;
  /** Its data directory (the JSON log lines are in its logs/stack.log). */
  readonly dataDir: string;
  /** Date.now() when it was spawned. */
  readonly spawnedAt: number;
  readonly logFile: string;
  /** Where this start's output begins in the log file. */
  readonly logOffset: number;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  exitCode(): number | null | undefined;
}

/** Every group this process has started and not yet seen dead. */
const startedGroups = new Set<number>();

// Last resort when the test process ends without its after hooks (process.exit,
// Ctrl-C, a CI timeout's SIGTERM): a detached group would outlive it otherwise.
// Installed only while a group may be alive, so other test files keep the
// default signal behaviour.
const CLEANUP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const killStartedGroupsNow = (): void => {
  for (const pgid of startedGroups) signalGroup(pgid, 'SIGKILL');
};
const onSignal = (signal: NodeJS.Signals): void => {
  killStartedGroupsNow();
  uninstallCleanup();
  // Without another listener, end as the signal would have ended the process.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
};
let cleanupInstalled = false;

function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', killStartedGroupsNow);
  for (const signal of CLEANUP_SIGNALS) process.on(signal, onSignal);
}

function uninstallCleanup(): void {
  if (!cleanupInstalled) return;
  cleanupInstalled = false;
  process.off('exit', killStartedGroupsNow);
  for (const signal of CLEANUP_SIGNALS) process.off(signal, onSignal);
}

/** Spawns the stack detached (its own process group, led by the launcher). */
export function spawnStack(options: StackStart): StackProcess {
  const logOffset = fs.existsSync(options.logFile) ? fs.statSync(options.logFile).size : 0;
  fs.appendFileSync(
    options.logFile,
    `\n===== ${new Date().toISOString()} start${options.label ? ` (${options.label})` : ''} =====\n`,
  );
  const out = fs.openSync(options.logFile, 'a');
  let child;
  try {
    child = spawn(
      process.execPath,
      [
        RECDEPLOY_BIN,
        'start',
        ...(options.sample === true ? [] : ['--no-sample']),
        '--data-dir',
        options.dataDir,
        '--log-level',
        options.logLevel ?? 'info',
      ],
      {
        cwd: REPO_ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          METADATA_SERVER_DETECTION: 'none',
          ...options.env,
        },
        stdio: ['ignore', out, out],
        detached: true,
      },
    );
  } finally {
    fs.closeSync(out);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error('recdeploy start could not be spawned');
  startedGroups.add(pid);
  installCleanup();
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (exitCode) => {
      code = exitCode;
      resolve(exitCode);
    }),
  );
  return {
    pid,
    dataDir: options.dataDir,
    spawnedAt: Date.now(),
    logFile: options.logFile,
    logOffset,
    exited,
    exitCode: () => code,
  };
}

/** What this start has written to the log so far. */
export function stackOutput(stack: StackProcess): string {
  try {
    const fd = fs.openSync(stack.logFile, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const buffer = Buffer.alloc(Math.max(0, size - stack.logOffset));
      fs.readSync(fd, buffer, 0, buffer.length, stack.logOffset);
      return buffer.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

/**
 * The last `lines` lines of this start's output, for failure messages, then
 * the last lines of the stack's JSON log (the terminal only has people's text).
 */
export function stackOutputTail(stack: StackProcess, lines = 40): string {
  const output = stackOutput(stack).trimEnd().split('\n').slice(-lines).join('\n');
  const logFile = path.join(stack.dataDir, 'logs', 'stack.log');
  let log: string;
  try {
    log = fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return output;
  }
  return `${output}\n\n${logFile} (last ${lines} lines):\n${log}`;
}

/**
 * Resolves once the stack's output matches `pattern`. A line the stack prints
 * after it wrote the state a test waited for (the canary ticker tells a
 * promotion after the run store has it) is waited for, not read at once.
 */
export async function waitForOutput(
  stack: StackProcess,
  pattern: RegExp,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(stackOutput(stack))) {
    if (stack.exitCode() !== undefined || Date.now() > deadline) {
      throw new Error(`no ${String(pattern)} in the stack's output:\n${stackOutputTail(stack)}`);
    }
    await sleep(50);
  }
}

/** Resolves with Date.now() once the stack printed its dashboard URL (it is up). */
export async function waitUntilUp(stack: StackProcess, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (/dashboard: \S+/.test(stackOutput(stack))) return Date.now();
    if (stack.exitCode() !== undefined) {
      throw new Error(
        `recdeploy start exited ${String(stack.exitCode())} before it was up:\n${stackOutputTail(stack)}`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(`recdeploy start not up within ${timeoutMs} ms:\n${stackOutputTail(stack)}`);
    }
    await sleep(50);
  }
}

/**
 * SIGKILLs the stack's whole process group and resolves once no process of
 * the group is left (zombies aside: they hold no port, file lock or CPU).
 * @throws when something of the group survives 10 s.
 */
export async function killStackGroup(stack: StackProcess): Promise<void> {
  await killGroup(stack.pid);
  await stack.exited;
}

async function killGroup(pgid: number): Promise<void> {
  signalGroup(pgid, 'SIGKILL');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const left = groupMembers(pgid);
    if (left.length === 0) {
      startedGroups.delete(pgid);
      if (startedGroups.size === 0) uninstallCleanup();
      return;
    }
    if (Date.now() > deadline) {
      throw new Error(`process group ${pgid}: still alive after SIGKILL: ${left.join(', ')}`);
    }
    signalGroup(pgid, 'SIGKILL');
    await sleep(20);
  }
}

/** Kills every group spawnStack started that may still be running (for after/afterEach hooks). */
export async function killAllStartedStacks(): Promise<void> {
  for (const pgid of [...startedGroups]) {
    await killGroup(pgid).catch(() => undefined);
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: no process of the group is left.
  }
}

/**
 * Live (non-zombie) processes of a process group, from /proc (Linux). Where
 * /proc is missing, whether the group can still be signalled at all.
 */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  const members: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') {
      members.push(Number(entry));
    }
  }
  return members;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
