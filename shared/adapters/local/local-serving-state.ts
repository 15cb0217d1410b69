import type Database from 'better-sqlite3';
import type { RevisionSpec, RuntimeName } from '../../ports/serving-platform.port.js';
import { migrateLocalServing } from './local-serving-schema.js';
import { openSqliteDatabase, writeTransaction } from './sqlite-database.js';

/** A revision's process: starting (not yet AVAILABLE), ready, stopped on purpose, or failed to start. */
export type RevisionState = 'starting' | 'ready' | 'stopped' | 'failed';

export interface ServiceRecord {
  readonly name: string;
  readonly routerPort: number;
  readonly liveRevision: string | undefined;
  readonly previousRevision: string | undefined;
  readonly updatedAt: string;
}

export interface RevisionRecord {
  /** Deployment order within the file. */
  readonly seq: number;
  readonly service: string;
  readonly revision: string;
  readonly runtime: RuntimeName;
  readonly spec: RevisionSpec;
  readonly port: number;
  /** The last process started or adopted for it (it may have exited since). */
  readonly pid: number | undefined;
  /** The platform instance that stops that process when it closes. */
  readonly owner: string | undefined;
  readonly state: RevisionState;
  readonly logFile: string;
  /** When it first had traffic; undefined for a revision never promoted. */
  readonly servedAt: string | undefined;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** What the router needs per request. */
export interface LiveTarget {
  readonly revision: string;
  readonly port: number;
  readonly state: RevisionState;
}

interface ServiceRow {
  name: string;
  router_port: number;
  live_revision: string | null;
  previous_revision: string | null;
  updated_at: string;
}

interface RevisionRow {
  seq: number;
  service: string;
  revision: string;
  runtime: string;
  spec: string;
  port: number;
  pid: number | null;
  owner: string | null;
  state: string;
  log_file: string;
  served_at: string | null;
  created_at: string;
  updated_at: string;
}

/**
 * The local serving platform's source of truth, in its own SQLite file (WAL,
 * synchronous=FULL): other processes on the same file (a CLI promoting or
 * rolling back, a dashboard) see and make the same changes, and the router
 * reads the live revision from it on every request.
 */
export class LocalServingState {
  private readonly db: Database.Database;
  private readonly liveTargetQuery: Database.Statement<[string], LiveTarget>;

  constructor(file: string) {
    this.db = openSqliteDatabase(file);
    try {
      migrateLocalServing(this.db);
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.liveTargetQuery = this.db.prepare(
      `SELECT r.revision AS revision, r.port AS port, r.state AS state
         FROM serving_services s
         JOIN serving_revisions r ON r.service = s.name AND r.revision = s.live_revision
        WHERE s.name = ?`,
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

  /** The live revision and its port, read fresh (another process may have promoted). */
  liveTarget(service: string): LiveTarget | undefined {
    return this.liveTargetQuery.get(service);
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
   * Sends the service's traffic to `revision`; the revision it replaces
   * becomes the previous one (unless it is `revision` itself: then nothing
   * changes). Returns the service as stored afterwards.
   */
  setLive(service: string, revision: string): ServiceRecord {
    return writeTransaction(this.db, () => {
      const current = this.mustGetService(service);
      if (current.liveRevision === revision) return current;
      const now = new Date().toISOString();
      this.db
        .prepare(
          `UPDATE serving_services
              SET live_revision = ?, previous_revision = ?, updated_at = ? WHERE name = ?`,
        )
        .run(revision, current.liveRevision ?? null, now, service);
      this.db
        .prepare(
          `UPDATE serving_revisions SET served_at = COALESCE(served_at, ?)
            WHERE service = ? AND revision = ?`,
        )
        .run(now, service, revision);
      return this.mustGetService(service);
    });
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

/**
 * The revisions a traffic change supersedes: every one still running except
 * the live and the previous revision, and except candidates deployed after
 * the live one that have never had traffic (a newer run's revision waiting
 * for verification is not superseded by an older run's promote).
 */
export function supersededRevisions(
  revisions: readonly RevisionRecord[],
  traffic: Pick<ServiceRecord, 'liveRevision' | 'previousRevision'>,
): RevisionRecord[] {
  const live = revisions.find((r) => r.revision === traffic.liveRevision);
  return revisions.filter(
    (r) =>
      (r.state === 'ready' || r.state === 'starting') &&
      r.revision !== traffic.liveRevision &&
      r.revision !== traffic.previousRevision &&
      !(r.servedAt === undefined && live !== undefined && r.seq > live.seq),
  );
}

function toService(row: ServiceRow): ServiceRecord {
  return {
    name: row.name,
    routerPort: row.router_port,
    liveRevision: row.live_revision ?? undefined,
    previousRevision: row.previous_revision ?? undefined,
    updatedAt: row.updated_at,
  };
}

function toRevision(row: RevisionRow): RevisionRecord {
  return {
    seq: row.seq,
    service: row.service,
    revision: row.revision,
    runtime: row.runtime as RuntimeName,
    spec: JSON.parse(row.spec) as RevisionSpec,
    port: row.port,
    pid: row.pid ?? undefined,
    owner: row.owner ?? undefined,
    state: row.state as RevisionState,
    logFile: row.log_file,
    servedAt: row.served_at ?? undefined,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
