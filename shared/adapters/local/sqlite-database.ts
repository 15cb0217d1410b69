import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';

/** How long a writer waits for another process's write lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 10_000;

/**
 * Opens (creating its folder) a SQLite database the way every embedded adapter
 * needs it: WAL so readers (the dashboard) never block writers, and
 * synchronous=FULL so a committed transaction survives a crash before we answer
 * 2xx to a push delivery (DESIGN.md §4).
 */
export function openSqliteDatabase(
  file: string,
  options: {
    /**
     * How long one statement blocks (synchronously: the whole event loop)
     * waiting for another process's lock. A caller that waits longer should
     * retry asynchronously instead, as SqliteRunStore does.
     */
    readonly busyTimeoutMs?: number;
  } = {},
): Database.Database {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file);
  // First, so the pragmas after it wait for a lock like every statement does.
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? BUSY_TIMEOUT_MS}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  return db;
}

/**
 * Runs `work` in a write transaction taken up front (BEGIN IMMEDIATE), so two
 * processes doing read-modify-write on the same row serialise instead of one
 * failing at commit time with SQLITE_BUSY.
 */
export function writeTransaction<T>(db: Database.Database, work: () => T): T {
  return db.transaction(work).immediate();
}
