import type Database from 'better-sqlite3';
import { PermanentError } from '../../errors.js';
import { writeTransaction } from './sqlite-database.js';

/**
 * The local serving platform's schema version, kept in the file's
 * `user_version`: the platform owns its SQLite file (not shared with the run
 * store or the bus), so nothing else bumps it.
 */
export const LOCAL_SERVING_SCHEMA_VERSION = 3;

/**
 * - serving_services: one row per service, with its router's port (chosen
 *   once, so the service URL survives restarts) and its traffic: the live
 *   revision and the one it replaced (the rollback target).
 * - serving_revisions: one row per revision, with the spec it was deployed
 *   with (to start it again after a restart), its port (kept, so its tag URL
 *   is stable), the pid of its process and the platform instance that owns
 *   that process. `served_at` marks a revision that has had traffic; `seq`
 *   orders revisions by deployment.
 * - serving_traffic_changes (version 2): every change of a service's
 *   primary revision (the one with the largest share; the live one when it
 *   has 100%), in order, so "since when" and "how many times" are facts an
 *   operator (and the crash tests) can read back. A canary step that leaves
 *   the primary revision in place is not a change here.
 * - version 3, traffic splits and live metrics:
 *   - serving_traffic: the service's current split, one row per revision
 *     with a share (whole percents, 1–100, totalling 100). The router reads
 *     it on every request. `serving_services.live_revision` keeps the
 *     primary revision, so a reader of version 2 still finds where most
 *     traffic goes. A version-2 live revision becomes a 100% share.
 *   - serving_traffic_history: every change of the split (canary steps,
 *     promotes, rollbacks), with the split it set, so the window of each
 *     canary step can be read back.
 *   - serving_revision_metrics: what the router saw per service, revision
 *     and second (unix seconds): requests, errors, prediction answers
 *     inspected and degenerate, and a latency histogram over the fixed
 *     buckets of local-latency-buckets.ts, stored sparse as JSON
 *     `[[bucket, count], …]`, so any window's percentiles come from summed
 *     buckets. Rows older than a day are pruned.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE IF NOT EXISTS serving_services (
    name              TEXT PRIMARY KEY,
    router_port       INTEGER NOT NULL UNIQUE,
    live_revision     TEXT,
    previous_revision TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS serving_revisions (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    service    TEXT NOT NULL REFERENCES serving_services(name),
    revision   TEXT NOT NULL,
    runtime    TEXT NOT NULL,
    spec       TEXT NOT NULL,
    port       INTEGER NOT NULL UNIQUE,
    pid        INTEGER,
    owner      TEXT,
    state      TEXT NOT NULL CHECK (state IN ('starting', 'ready', 'stopped', 'failed')),
    log_file   TEXT NOT NULL,
    served_at  TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (service, revision)
  );
  `,
  `
  CREATE TABLE IF NOT EXISTS serving_traffic_changes (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    service       TEXT NOT NULL REFERENCES serving_services(name),
    revision      TEXT NOT NULL,
    from_revision TEXT,
    at            TEXT NOT NULL
  );
  `,
  `
  CREATE TABLE IF NOT EXISTS serving_traffic (
    service  TEXT NOT NULL REFERENCES serving_services(name),
    revision TEXT NOT NULL,
    percent  INTEGER NOT NULL CHECK (percent BETWEEN 1 AND 100),
    PRIMARY KEY (service, revision),
    FOREIGN KEY (service, revision) REFERENCES serving_revisions(service, revision)
  ) WITHOUT ROWID;
  INSERT INTO serving_traffic (service, revision, percent)
    SELECT s.name, s.live_revision, 100
      FROM serving_services s
      JOIN serving_revisions r ON r.service = s.name AND r.revision = s.live_revision;
  CREATE TABLE IF NOT EXISTS serving_traffic_history (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    service TEXT NOT NULL REFERENCES serving_services(name),
    split   TEXT NOT NULL,
    reason  TEXT NOT NULL CHECK (reason IN ('split', 'promote', 'rollback')),
    at      TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS serving_revision_metrics (
    service    TEXT NOT NULL,
    revision   TEXT NOT NULL,
    second     INTEGER NOT NULL,
    requests   INTEGER NOT NULL,
    errors     INTEGER NOT NULL,
    inspected  INTEGER NOT NULL,
    degenerate INTEGER NOT NULL,
    latency    TEXT NOT NULL,
    PRIMARY KEY (service, revision, second)
  ) WITHOUT ROWID;
  `,
];

/**
 * Brings the file to LOCAL_SERVING_SCHEMA_VERSION in one write transaction,
 * so two processes opening a new file at once do not both migrate it.
 * Refuses a file written by a newer schema rather than misreading it.
 */
export function migrateLocalServing(db: Database.Database): void {
  // An up-to-date file is opened without the write lock (the routers' metrics
  // flushes and every reader open it while others write).
  if ((db.pragma('user_version', { simple: true }) as number) === LOCAL_SERVING_SCHEMA_VERSION) {
    return;
  }
  writeTransaction(db, () => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > LOCAL_SERVING_SCHEMA_VERSION) {
      throw new PermanentError(
        'STORE.CONFLICT',
        `local serving state file has schema ${version}, newer than this program's ${LOCAL_SERVING_SCHEMA_VERSION}`,
        { metadata: { version, supported: LOCAL_SERVING_SCHEMA_VERSION } },
      );
    }
    for (let v = version; v < LOCAL_SERVING_SCHEMA_VERSION; v += 1) {
      const sql = MIGRATIONS[v];
      if (sql !== undefined) db.exec(sql);
    }
    if (version !== LOCAL_SERVING_SCHEMA_VERSION)
      db.pragma(`user_version = ${LOCAL_SERVING_SCHEMA_VERSION}`);
  });
}
