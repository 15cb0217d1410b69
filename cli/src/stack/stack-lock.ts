/**
 * One local stack per data directory, decided by the operating system: the
 * stack holds an exclusive lock on `{dataDir}/stack.lock` for its whole life,
 * taken before it starts anything. Checking stack.json and then writing it
 * let two starts 2 s apart both pass (issue 11); a lock is taken or refused in
 * one step, and the kernel drops it when its holder dies, even by SIGKILL, so
 * there is no stale lock to guess about.
 *
 * The lock is SQLite's (better-sqlite3, already used by every local adapter):
 * `locking_mode=EXCLUSIVE` plus an open `BEGIN EXCLUSIVE` transaction holds a
 * POSIX fcntl write lock on the file until the connection closes or the
 * process ends. A second taker, with a busy timeout of 0, gets SQLITE_BUSY at
 * once, in another process or in this one (SQLite tracks its locks per file
 * across connections). Child processes do not inherit fcntl locks, so the
 * revisions and the dashboard the stack starts never keep it.
 *
 * Never open stack.lock other than through this module: closing *any*
 * descriptor of the file in the holding process drops its POSIX locks (a
 * plain fs.readFileSync of it in the stack would silently end the exclusion).
 * SQLite's own connections avoid that, so a refused second attempt is safe.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { isProcessAlive } from '@recdeploy/shared/local';
import { readStackHolder, type StackHolder } from './stack-state.js';

export const STACK_LOCK_FILE = 'stack.lock';

/** The lock of one data directory, held until `release` or the end of the process. */
export interface StackLock {
  readonly dataDir: string;
  readonly file: string;
  /** Idempotent. */
  release(): void;
}

/** Another process holds the data directory: the message names it. */
export class StackLockedError extends Error {
  constructor(
    readonly dataDir: string,
    /** What stack.json says about the holder; undefined if it has not written it yet. */
    readonly holder: StackHolder | undefined,
  ) {
    super(describeHolder(dataDir, holder));
    this.name = 'StackLockedError';
  }
}

/** Lock files this process holds, so a second acquisition is refused with a clear message. */
const held = new Set<string>();

/**
 * How long a refused start keeps trying while no live holder is named: the
 * holder writes stack.json right after taking the lock, and a holder that was
 * just killed keeps it until its last thread has exited (the kernel closes
 * the files of a multi-threaded process only then, a few ms after it already
 * looks dead).
 */
const HOLDER_WAIT_MS = 2_000;

/**
 * Takes the data directory's lock, or throws StackLockedError naming the
 * process that has it (as soon as stack.json names a live one). Not
 * re-entrant: a process runs at most one stack per data directory, so a
 * second acquisition in the same process is refused too.
 */
export async function acquireStackLock(dataDir: string): Promise<StackLock> {
  const dir = path.resolve(dataDir);
  fs.mkdirSync(dir, { recursive: true });
  // The real path, so a second way to name the directory (a symlink) is the same key.
  const file = path.join(fs.realpathSync(dir), STACK_LOCK_FILE);
  if (held.has(file)) {
    throw new Error(`this process already holds ${file}: one stack per data directory`);
  }
  const db = await lockOrNameHolder(dir, file);
  held.add(file);
  let released = false;
  return {
    dataDir: dir,
    file,
    release() {
      if (released) return;
      released = true;
      held.delete(file);
      // Closing the connection ends the transaction and with it the lock.
      db.close();
    },
  };
}

async function lockOrNameHolder(dir: string, file: string): Promise<Database.Database> {
  const deadline = Date.now() + HOLDER_WAIT_MS;
  for (;;) {
    try {
      return lockDatabase(file);
    } catch (error) {
      if (!isBusy(error))
        throw new Error(`cannot lock ${file}: ${String(error)}`, { cause: error });
    }
    // A file from an earlier, dead stack names a dead pid: that is not the holder.
    const holder = readStackHolder(dir);
    if (holder !== undefined && holder.pid !== process.pid && isProcessAlive(holder.pid)) {
      throw new StackLockedError(dir, holder);
    }
    if (Date.now() >= deadline) throw new StackLockedError(dir, undefined);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function lockDatabase(file: string): Database.Database {
  // timeout 0: a second taker is refused at once instead of waiting for the holder to die.
  const db = new Database(file, { timeout: 0 });
  try {
    // The transaction writes nothing; MEMORY keeps a -journal file from appearing beside it.
    db.pragma('journal_mode = MEMORY');
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

function describeHolder(dataDir: string, holder: StackHolder | undefined): string {
  const lockFile = path.join(dataDir, STACK_LOCK_FILE);
  if (holder === undefined) {
    return `a local stack already runs on ${dataDir}: another process holds ${lockFile} and has not named itself in stack.json; stop it first`;
  }
  const where =
    holder.dashboardUrl === undefined ? 'still starting' : `dashboard ${holder.dashboardUrl}`;
  return `a local stack already runs on ${dataDir} (pid ${holder.pid}, started ${holder.startedAt}, ${where}); stop it first`;
}
