import type Database from 'better-sqlite3';
import type { RevisionSpec } from '../../ports/serving-platform.port.js';
import { migrateLocalServing } from './local-serving-schema.js';
import { openSqliteDatabase, writeTransaction } from './sqlite-database.js';

import {
  toRevision,
  toService,
  type RevisionRecord,
  type RevisionRow,
  type RevisionState,
  type RouteTarget,
  type ServiceRecord,
  type ServiceRow,
  type StoredShare,
  type TrafficChange,
  type TrafficChangeReason,
  type TrafficSplitChange,
} from './local-serving-records.js';
import { readShares, writeTraffic } from './local-serving-traffic-writes.js';

export { supersededRevisions } from './local-serving-records.js';
export type {
  RevisionRecord,
  RevisionState,
  RouteTarget,
  ServiceRecord,
  StoredShare,
  TrafficChange,
  TrafficChangeReason,
  TrafficSplitChange,
} from './local-serving-records.js';

/**
 * The local serving platform's source of truth, in its own SQLite file (WAL,
 * synchronous=FULL): other processes on the same file (a CLI promoting or
 * rolling back, a dashboard) see and make the same changes, and the router
 * reads the split from it on every request.
 */
export class LocalServingState {
  private readonly db: Database.Database;
  private readonly routeTargetsQuery: Database.Statement<[string], RouteTarget>;

  constructor(file: string) {
    this.db = openSqliteDatabase(file);
    try {
      migrateLocalServing(this.db);
    } catch (error) {
      this.db.close();
      throw error;
    }
    // Per request: an index lookup per share (about 8 µs for two shares, 2.5 of them the
    // timeout read from the spec; a proxied request costs a millisecond or more).
    this.routeTargetsQuery = this.db.prepare(
      `SELECT r.revision AS revision, r.port AS port, r.state AS state, t.percent AS percent,
              json_extract(r.spec, '$.resources.timeoutS') AS timeoutS
         FROM serving_traffic t
         JOIN serving_revisions r ON r.service = t.service AND r.revision = t.revision
        WHERE t.service = ? ORDER BY r.seq`,
    );
  }

  close(): void {
    this.db.close();
  }

  service(name: string): ServiceRecord | undefined {
    const row = this.db.prepare('SELECT * FROM serving_services WHERE name = ?').get(name) as
      ServiceRow | undefined;
    return row && toService(row);
  }

  services(): ServiceRecord[] {
    const rows = this.db.prepare('SELECT * FROM serving_services ORDER BY name').all();
    return (rows as ServiceRow[]).map(toService);
  }

  revision(service: string, revision: string): RevisionRecord | undefined {
    const row = this.db
      .prepare('SELECT * FROM serving_revisions WHERE service = ? AND revision = ?')
      .get(service, revision) as RevisionRow | undefined;
    return row && toRevision(row);
  }

  /** The service's revisions in deployment order. */
  revisions(service: string): RevisionRecord[] {
    const rows = this.db
      .prepare('SELECT * FROM serving_revisions WHERE service = ? ORDER BY seq')
      .all(service);
    return (rows as RevisionRow[]).map(toRevision);
  }

  /** Every port recorded for a router or a revision (kept even while stopped). */
  usedPorts(): Set<number> {
    const rows = this.db
      .prepare(
        'SELECT router_port AS port FROM serving_services UNION SELECT port FROM serving_revisions',
      )
      .all() as { port: number }[];
    return new Set(rows.map((row) => row.port));
  }

  /** The revisions with a share and their ports, read fresh (another process may have moved traffic). */
  routeTargets(service: string): RouteTarget[] {
    return this.routeTargetsQuery.all(service);
  }

  /** The service's split in deployment order; empty before any traffic. */
  shares(service: string): StoredShare[] {
    return readShares(this.db, service);
  }

  /** Creates the service with `routerPort` unless it exists; returns the stored row. */
  ensureService(name: string, routerPort: number): ServiceRecord {
    return writeTransaction(this.db, () => {
      const now = new Date().toISOString();
      this.db
        .prepare(
          `INSERT INTO serving_services (name, router_port, created_at, updated_at)
           VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
        )
        .run(name, routerPort, now, now);
      return this.mustGetService(name);
    });
  }

  moveRouter(name: string, routerPort: number): void {
    this.db
      .prepare('UPDATE serving_services SET router_port = ?, updated_at = ? WHERE name = ?')
      .run(routerPort, new Date().toISOString(), name);
  }

  /**
   * Records a new revision as `starting` with no process yet; an existing
   * revision is returned unchanged, except that one that failed to start
   * takes the new spec (it never ran, so nothing depends on the old one).
   */
  ensureRevision(spec: RevisionSpec, port: number, logFile: string): RevisionRecord {
    return writeTransaction(this.db, () => {
      const now = new Date().toISOString();
      this.db
        .prepare(
          `INSERT INTO serving_revisions
             (service, revision, runtime, spec, port, state, log_file, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, 'starting', ?, ?, ?)
           ON CONFLICT (service, revision) DO UPDATE
             SET runtime = excluded.runtime, spec = excluded.spec, updated_at = excluded.updated_at
             WHERE serving_revisions.state = 'failed'`,
        )
        .run(
          spec.service,
          spec.revision,
          spec.runtime,
          JSON.stringify(spec),
          port,
          logFile,
          now,
          now,
        );
      return this.mustGetRevision(spec.service, spec.revision);
    });
  }

  /** Gives a revision a new port (its recorded one was taken by another program). */
  movePort(service: string, revision: string, port: number): void {
    this.update(service, revision, 'port = ?', port);
  }

  /** A process was started for the revision by `owner`. */
  recordProcess(service: string, revision: string, pid: number, owner: string): void {
    this.update(service, revision, "pid = ?, owner = ?, state = 'starting'", pid, owner);
  }

  /** `owner` took over the revision's running process (after its owner's restart). */
  recordAdoption(service: string, revision: string, owner: string): void {
    this.update(service, revision, 'owner = ?', owner);
  }

  setState(service: string, revision: string, state: RevisionState): void {
    this.update(service, revision, 'state = ?', state);
  }

  /**
   * Gives the service exactly `split` (validated by the caller; see
   * local-serving-traffic-writes.ts for what is remembered). A split equal
   * to the current one writes nothing. Returns the service as stored
   * afterwards and whether anything changed.
   */
  setTraffic(
    service: string,
    split: readonly StoredShare[],
    reason: TrafficChangeReason,
  ): { service: ServiceRecord; changed: boolean } {
    return writeTransaction(this.db, () => {
      const changed = writeTraffic(this.db, this.mustGetService(service), split, reason);
      return { service: this.mustGetService(service), changed };
    });
  }

  /** Every change of the service's primary revision, oldest first. */
  trafficChanges(service: string): TrafficChange[] {
    const rows = this.db
      .prepare(
        `SELECT revision, from_revision AS fromRevision, at FROM serving_traffic_changes
          WHERE service = ? ORDER BY seq`,
      )
      .all(service) as { revision: string; fromRevision: string | null; at: string }[];
    return rows.map((row) => ({
      revision: row.revision,
      ...(row.fromRevision === null ? {} : { fromRevision: row.fromRevision }),
      at: row.at,
    }));
  }

  /** Every change of the service's split (canary steps, promotes, rollbacks), oldest first. */
  trafficHistory(service: string): TrafficSplitChange[] {
    const rows = this.db
      .prepare(
        'SELECT split, reason, at FROM serving_traffic_history WHERE service = ? ORDER BY seq',
      )
      .all(service) as { split: string; reason: TrafficChangeReason; at: string }[];
    return rows.map((row) => ({
      split: JSON.parse(row.split) as StoredShare[],
      reason: row.reason,
      at: row.at,
    }));
  }

  private update(service: string, revision: string, assignments: string, ...values: unknown[]) {
    this.db
      .prepare(
        `UPDATE serving_revisions SET ${assignments}, updated_at = ? WHERE service = ? AND revision = ?`,
      )
      .run(...values, new Date().toISOString(), service, revision);
  }

  private mustGetService(name: string): ServiceRecord {
    const record = this.service(name);
    if (!record) throw new Error(`serving_services has no row for ${name}`);
    return record;
  }

  private mustGetRevision(service: string, revision: string): RevisionRecord {
    const record = this.revision(service, revision);
    if (!record) throw new Error(`serving_revisions has no row for ${service}/${revision}`);
    return record;
  }
}
