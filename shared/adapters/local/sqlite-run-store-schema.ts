import type Database from 'better-sqlite3';
import { PermanentError } from '../../errors.js';
import { writeTransaction } from './sqlite-database.js';

/**
 * The run store's schema version, kept in the file's `user_version`: the run
 * store owns its SQLite file (the local event bus has its own), so nothing
 * else bumps it.
 */
export const RUN_STORE_SCHEMA_VERSION = 4;

/**
 * - deployments: one row per run; the document is JSON, and the columns the
 *   dashboard filters and sorts on are copied out beside it with indexes
 *   (latest runs, by status, by model endpoint).
 * - run_changes: a change log appended in the same transaction as each run
 *   write; watch() polls it, so a dashboard in another process sees changes
 *   in commit order. Pruned to its newest rows.
 * - service_leases, rejected_events: see the RunStore port.
 * - serving_records (version 2): one per serving service, what the platform
 *   observes serving (shared/domain/serving-record.ts).
 * - rejected_events_by_group (version 3): rejected events by group (kind,
 *   else code; REJECTED_GROUP_SQL), newest first, so each group is bounded
 *   on its own. An index on the expression, not a column: idempotent, and
 *   rows written before it need no backfill.
 * - freshness_alerts (version 4): open freshness alerts, one per breach
 *   (shared/domain/freshness-alert.ts), by breach start.
 */
/**
 * A rejected event's group in SQL, as rejectedEventGroup (run-queries.ts)
 * computes it: statements must spell it exactly so to use the index.
 */
export const REJECTED_GROUP_SQL =
  "coalesce(json_extract(doc, '$.kind'), json_extract(doc, '$.code'))";

const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS deployments (
    id                TEXT PRIMARY KEY,
    status            TEXT NOT NULL,
    model_endpoint_id TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    doc               TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS deployments_latest ON deployments (updated_at DESC, id DESC);
  CREATE INDEX IF NOT EXISTS deployments_by_status ON deployments (status, updated_at DESC, id DESC);
  CREATE INDEX IF NOT EXISTS deployments_by_endpoint
    ON deployments (model_endpoint_id, updated_at DESC, id DESC);
  CREATE INDEX IF NOT EXISTS deployments_by_endpoint_status
    ON deployments (model_endpoint_id, status, updated_at DESC, id DESC);
  CREATE TABLE IF NOT EXISTS run_changes (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL,
    doc    TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS service_leases (
    service     TEXT PRIMARY KEY,
    run_id      TEXT NOT NULL,
    acquired_at TEXT NOT NULL,
    expires_at  TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS rejected_events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    TEXT NOT NULL UNIQUE,
    received_at TEXT NOT NULL,
    doc         TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS rejected_events_newest ON rejected_events (received_at DESC, seq DESC);
  `,
  `
  CREATE TABLE IF NOT EXISTS serving_records (
    service TEXT PRIMARY KEY,
    doc     TEXT NOT NULL
  );
  `,
  `
  CREATE INDEX IF NOT EXISTS rejected_events_by_group
    ON rejected_events (${REJECTED_GROUP_SQL}, received_at DESC, seq DESC);
  `,
  `
  CREATE TABLE IF NOT EXISTS freshness_alerts (
    alert_id       TEXT PRIMARY KEY,
    breached_since TEXT NOT NULL,
    doc            TEXT NOT NULL
  );
  `,
];

/**
 * Brings the file to RUN_STORE_SCHEMA_VERSION inside one write transaction,
 * so two processes opening a new file at once do not both migrate it.
 * Refuses a file written by a newer schema rather than misreading it.
 */
export function migrateRunStore(db: Database.Database): void {
  // An up-to-date file (every open but the first) is opened without the write
  // lock: many processes opening a busy file at once must not queue for it.
  if ((db.pragma('user_version', { simple: true }) as number) === RUN_STORE_SCHEMA_VERSION) return;
  writeTransaction(db, () => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > RUN_STORE_SCHEMA_VERSION) {
      throw new PermanentError(
        'STORE.CONFLICT',
        `run store file has schema ${version}, newer than this program's ${RUN_STORE_SCHEMA_VERSION}`,
        { metadata: { version, supported: RUN_STORE_SCHEMA_VERSION } },
      );
    }
    for (let v = version; v < RUN_STORE_SCHEMA_VERSION; v += 1) {
      const sql = MIGRATIONS[v];
      if (sql !== undefined) db.exec(sql);
    }
    if (version !== RUN_STORE_SCHEMA_VERSION)
      db.pragma(`user_version = ${RUN_STORE_SCHEMA_VERSION}`);
  });
}
