/**
 * The running local stack announces itself in `{RECDEPLOY_DATA_DIR}/stack.json`
 * so the other commands (publish, rollback, status) can tell whether one is
 * running and where its parts listen. Written when the stack is up, removed
 * when it stops; a file left by a killed stack is recognised by its dead pid.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isProcessAlive } from '@recdeploy/shared/local';

export const STACK_FILE = 'stack.json';

export interface StackState {
  readonly pid: number;
  readonly startedAt: string;
  /** The functions' push endpoints (functions-framework servers on loopback). */
  readonly functions: Readonly<Record<'register' | 'deploy' | 'verify', string>>;
  /** The dashboard's URL. */
  readonly dashboardUrl: string;
}

export function stackFile(dataDir: string): string {
  return path.join(dataDir, STACK_FILE);
}

export function writeStackState(dataDir: string, state: StackState): void {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = stackFile(dataDir);
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  fs.renameSync(`${file}.tmp`, file);
}

export function removeStackState(dataDir: string, pid = process.pid): void {
  const current = readStackFile(dataDir);
  if (current?.pid === pid) fs.rmSync(stackFile(dataDir), { force: true });
}

/** The running stack of `dataDir`, or undefined when none runs (no file, or its process is gone). */
export function runningStack(dataDir: string): StackState | undefined {
  const state = readStackFile(dataDir);
  return state !== undefined && isProcessAlive(state.pid) ? state : undefined;
}

function readStackFile(dataDir: string): StackState | undefined {
  try {
    const value = JSON.parse(fs.readFileSync(stackFile(dataDir), 'utf8')) as Partial<StackState>;
    return typeof value.pid === 'number' && typeof value.dashboardUrl === 'string'
      ? (value as StackState)
      : undefined;
  } catch {
    return undefined;
  }
}
