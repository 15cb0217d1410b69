import type Database from 'better-sqlite3';
import type { ServiceRecord, StoredShare, TrafficChangeReason } from './local-serving-records.js';
import { primaryOf, sameSplit } from './local-traffic-split.js';

/**
 * How a change of a service's split is written (local-serving-state.ts runs
 * it inside one write transaction, so two processes changing traffic at once
 * serialise): the split, the primary and previous revisions, the history,
 * and the change log of the primary revision.
 */

/** The service's shares in deployment order (the router's order too). */
export function readShares(db: Database.Database, service: string): StoredShare[] {
  return db
    .prepare(
      `SELECT t.revision AS revision, t.percent AS percent
         FROM serving_traffic t
         JOIN serving_revisions r ON r.service = t.service AND r.revision = t.revision
        WHERE t.service = ? ORDER BY r.seq`,
    )
    .all(service) as StoredShare[];
}

/**
 * Replaces the service's split with `split` (already validated, every
 * revision existing). Writes nothing when it is the current split, and
 * returns whether it wrote.
 *
 * The previous revision (the rollback target): a promote or rollback
 * remembers the revision with the largest other share of the split it ends
 * (the stable one of a canary, or simply the live one it replaces); a
 * canary step that changes the primary revision remembers the one it was.
 */
export function writeTraffic(
  db: Database.Database,
  current: ServiceRecord,
  split: readonly StoredShare[],
  reason: TrafficChangeReason,
): boolean {
  const service = current.name;
  const before = readShares(db, service);
  if (sameSplit(before, split)) return false;
  const ordered = inDeploymentOrder(db, service, split);
  const primary = primaryOf(ordered, current.primaryRevision);
  let previous = current.previousRevision;
  if (reason !== 'split') {
    const others = before.filter((share) => share.revision !== primary);
    previous = primaryOf(others, current.primaryRevision);
  } else if (primary !== current.primaryRevision) {
    previous = current.primaryRevision ?? previous;
  }
  const now = new Date().toISOString();
  db.prepare('DELETE FROM serving_traffic WHERE service = ?').run(service);
  const insert = db.prepare(
    'INSERT INTO serving_traffic (service, revision, percent) VALUES (?, ?, ?)',
  );
  const served = db.prepare(
    `UPDATE serving_revisions SET served_at = COALESCE(served_at, ?)
      WHERE service = ? AND revision = ?`,
  );
  for (const share of ordered) {
    insert.run(service, share.revision, share.percent);
    served.run(now, service, share.revision);
  }
  db.prepare(
    `UPDATE serving_services
        SET live_revision = ?, previous_revision = ?, updated_at = ? WHERE name = ?`,
  ).run(primary ?? null, previous ?? null, now, service);
  if (primary !== current.primaryRevision && primary !== undefined) {
    db.prepare(
      `INSERT INTO serving_traffic_changes (service, revision, from_revision, at)
       VALUES (?, ?, ?, ?)`,
    ).run(service, primary, current.primaryRevision ?? null, now);
  }
  db.prepare(
    'INSERT INTO serving_traffic_history (service, split, reason, at) VALUES (?, ?, ?, ?)',
  ).run(service, JSON.stringify(ordered), reason, now);
  return true;
}

function inDeploymentOrder(
  db: Database.Database,
  service: string,
  split: readonly StoredShare[],
): StoredShare[] {
  const rows = db
    .prepare('SELECT revision, seq FROM serving_revisions WHERE service = ?')
    .all(service) as { revision: string; seq: number }[];
  const seq = new Map(rows.map((row) => [row.revision, row.seq]));
  return split
    .map((share) => ({ revision: share.revision, percent: share.percent }))
    .sort((a, b) => (seq.get(a.revision) ?? 0) - (seq.get(b.revision) ?? 0));
}
