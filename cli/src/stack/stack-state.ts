/**
 * The running local stack announces itself in `{RECDEPLOY_DATA_DIR}/stack.json`
 * so the other commands (publish, rollback, status) can tell whether one is
 * running and where its parts listen. Written twice: as soon as the stack
 * holds the data directory's lock (stack-lock.ts; only its pid and start
 * time, so a second `start` can name the holder), and complete once the stack
 * is up; removed when it stops. A file left by a killed stack is recognised
 * by its dead pid. The file announces; the lock decides who runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isProcessAlive } from '@recdeploy/shared/local';

export const STACK_FILE = 'stack.json';

/** The process that holds the data directory, from the moment it took the lock. */
export interface StackHolder {
  readonly pid: number;
  readonly startedAt: string;
  /** Only once the stack is up. */
  readonly dashboardUrl?: string;
}

export interface StackState extends StackHolder {
  /** The functions' push endpoints (functions-framework servers on loopback). */
  readonly functions: Readonly<Record<'register' | 'deploy' | 'verify', string>>;
  /** The dashboard's URL. */
  readonly dashboardUrl: string;
}

export function stackFile(dataDir: string): string {
  return path.join(dataDir, STACK_FILE);
}

/** The stack is up: where its parts listen. */
export function writeStackState(dataDir: string, state: StackState): void {
  writeAtomically(dataDir, state);
}

/** The stack has just taken the lock and is starting: who it is, nothing else yet. */
export function writeStackHolder(
  dataDir: string,
  holder: Pick<StackHolder, 'pid' | 'startedAt'>,
): void {
  writeAtomically(dataDir, { pid: holder.pid, startedAt: holder.startedAt });
}

export function removeStackState(dataDir: string, pid = process.pid): void {
  const current = readStackHolder(dataDir);
  if (current?.pid === pid) fs.rmSync(stackFile(dataDir), { force: true });
}

/**
 * The running stack of `dataDir`, or undefined when none runs (no file, its
 * process is gone, or it is still starting and nothing listens yet).
 */
export function runningStack(dataDir: string): StackState | undefined {
  const state = readStackFile(dataDir);
  return state !== undefined && isProcessAlive(state.pid) ? state : undefined;
}

/** What stack.json says about its writer (also while the stack is starting), unchecked. */
export function readStackHolder(dataDir: string): StackHolder | undefined {
  const value = readJson(dataDir);
  if (typeof value?.pid !== 'number' || typeof value.startedAt !== 'string') return undefined;
  return {
    pid: value.pid,
    startedAt: value.startedAt,
    ...(typeof value.dashboardUrl === 'string' ? { dashboardUrl: value.dashboardUrl } : {}),
  };
}

function readStackFile(dataDir: string): StackState | undefined {
  const value = readJson(dataDir);
  return typeof value?.pid === 'number' && typeof value.dashboardUrl === 'string'
    ? (value as StackState)
    : undefined;
}

function readJson(dataDir: string): Partial<StackState> | undefined {
  try {
    return JSON.parse(fs.readFileSync(stackFile(dataDir), 'utf8')) as Partial<StackState>;
  } catch {
    return undefined;
  }
}

/** Readers never see half a file: written beside it, then renamed over it. */
function writeAtomically(dataDir: string, value: object): void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = stackFile(dataDir);
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(value, null, 2)}\n`);
  fs.renameSync(`${file}.tmp`, file);
}
