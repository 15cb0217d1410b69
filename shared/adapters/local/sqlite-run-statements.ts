import type Database from 'better-sqlite3';
import type { RunDocument } from '../../domain/run-document.js';
import type { ServiceLease } from '../../domain/service-lease.js';
import type { RejectedEvent, RunQuery } from '../../ports/run-store.port.js';
import {
  MAX_REJECTED_EVENTS_PER_GROUP,
  REJECTED_EVENT_MAX_AGE_MS,
  rejectedEventGroup,
} from '../../domain/run-queries.js';
import { CHANGE_LOG_ROWS } from './sqlite-change-feed.js';
import { REJECTED_GROUP_SQL } from './sqlite-run-store-schema.js';

type Bind = Record<string, string | number | null>;
type RunFilter = 'all' | 'status' | 'endpoint' | 'both';

/**
 * The run store's SQL, prepared once per connection. Callers run these inside
 * writeTransaction where they write; nothing here decides anything.
 */
export class SqliteRunStatements {
  private readonly selectRun: Database.Statement<[string], { doc: string }>;
  private readonly upsertRun: Database.Statement<[Bind]>;
  private readonly insertChange: Database.Statement<[Bind]>;
  private readonly pruneChanges: Database.Statement<[number]>;
  private readonly selectRuns: Readonly<
    Record<RunFilter, Database.Statement<[Bind], { doc: string }>>
  >;
  private readonly selectLease: Database.Statement<[string], ServiceLease>;
  private readonly upsertLease: Database.Statement<[Bind]>;
  private readonly removeLease: Database.Statement<[string]>;
  private readonly insertRejected: Database.Statement<[Bind]>;
  private readonly pruneRejected: Database.Statement<[number]>;
  private readonly pruneRejectedGroup: Database.Statement<[Bind]>;
  private readonly pruneRejectedBefore: Database.Statement<[string]>;
  private readonly selectRejected: Database.Statement<[number], { doc: string }>;

  constructor(db: Database.Database) {
    this.selectRun = db.prepare('SELECT doc FROM deployments WHERE id = ?');
    this.upsertRun = db.prepare(
      `INSERT INTO deployments (id, status, model_endpoint_id, updated_at, doc)
       VALUES (@id, @status, @endpoint, @updatedAt, @doc)
       ON CONFLICT (id) DO UPDATE SET status = excluded.status,
         model_endpoint_id = excluded.model_endpoint_id,
         updated_at = excluded.updated_at, doc = excluded.doc`,
    );
    this.insertChange = db.prepare('INSERT INTO run_changes (run_id, doc) VALUES (@id, @doc)');
    this.pruneChanges = db.prepare('DELETE FROM run_changes WHERE seq <= ?');
    // One statement per filter combination, so each walks its own index in
    // order instead of scanning (a parameterised "IS NULL OR" cannot use one).
    const runs = (where: string) =>
      db.prepare<[Bind], { doc: string }>(
        `SELECT doc FROM deployments ${where} ORDER BY updated_at DESC, id DESC LIMIT @limit`,
      );
    this.selectRuns = {
      all: runs(''),
      status: runs('WHERE status = @status'),
      endpoint: runs('WHERE model_endpoint_id = @endpoint'),
      both: runs('WHERE model_endpoint_id = @endpoint AND status = @status'),
    };
    this.selectLease = db.prepare(
      `SELECT service, run_id AS runId, acquired_at AS acquiredAt, expires_at AS expiresAt
       FROM service_leases WHERE service = ?`,
    );
    this.upsertLease = db.prepare(
      `INSERT INTO service_leases (service, run_id, acquired_at, expires_at)
       VALUES (@service, @runId, @acquiredAt, @expiresAt)
       ON CONFLICT (service) DO UPDATE SET run_id = excluded.run_id,
         acquired_at = excluded.acquired_at, expires_at = excluded.expires_at`,
    );
    this.removeLease = db.prepare('DELETE FROM service_leases WHERE service = ?');
    // A redelivered rejection keeps the first record (same event id).
    this.insertRejected = db.prepare(
      `INSERT INTO rejected_events (event_id, received_at, doc) VALUES (@eventId, @receivedAt, @doc)
       ON CONFLICT (event_id) DO NOTHING`,
    );
    this.pruneRejected = db.prepare(
      `DELETE FROM rejected_events WHERE seq IN (
         SELECT seq FROM rejected_events ORDER BY received_at DESC, seq DESC LIMIT -1 OFFSET ?)`,
    );
    // Per group, so a flood of one kind cannot push out the others.
    this.pruneRejectedGroup = db.prepare(
      `DELETE FROM rejected_events WHERE seq IN (
         SELECT seq FROM rejected_events WHERE ${REJECTED_GROUP_SQL} = @group
         ORDER BY received_at DESC, seq DESC LIMIT -1 OFFSET @keep)`,
    );
    this.pruneRejectedBefore = db.prepare('DELETE FROM rejected_events WHERE received_at < ?');
    this.selectRejected = db.prepare(
      'SELECT doc FROM rejected_events ORDER BY received_at DESC, seq DESC LIMIT ?',
    );
  }

  getRun(runId: string): RunDocument | undefined {
    const row = this.selectRun.get(runId);
    return row === undefined ? undefined : (JSON.parse(row.doc) as RunDocument);
  }

  /** Writes the document and appends it to the change log (same transaction). */
  putRun(run: RunDocument): void {
    const doc = JSON.stringify(run);
    this.upsertRun.run({
      id: run.runId,
      status: run.status,
      endpoint: run.modelEndpointId,
      updatedAt: run.updatedAt,
      doc,
    });
    const seq = Number(this.insertChange.run({ id: run.runId, doc }).lastInsertRowid);
    if (seq % 100 === 0) this.pruneChanges.run(seq - CHANGE_LOG_ROWS);
  }

  listRuns(query: RunQuery, limit: number): RunDocument[] {
    const { status, modelEndpointId: endpoint } = query;
    const filter: RunFilter =
      status === undefined
        ? endpoint === undefined
          ? 'all'
          : 'endpoint'
        : endpoint === undefined
          ? 'status'
          : 'both';
    const bind: Bind = { limit };
    if (status !== undefined) bind.status = status;
    if (endpoint !== undefined) bind.endpoint = endpoint;
    return this.selectRuns[filter].all(bind).map((row) => JSON.parse(row.doc) as RunDocument);
  }

  getLease(service: string): ServiceLease | undefined {
    return this.selectLease.get(service);
  }

  putLease(lease: ServiceLease): void {
    this.upsertLease.run({ ...lease });
  }

  deleteLease(service: string): void {
    this.removeLease.run(service);
  }

  /**
   * Adds the event (unless already there), then keeps the newest
   * MAX_REJECTED_EVENTS_PER_GROUP of its group, none older than
   * REJECTED_EVENT_MAX_AGE_MS before it, and the newest `keep` in all.
   */
  addRejected(event: RejectedEvent, keep: number): void {
    const { changes } = this.insertRejected.run({
      eventId: event.eventId,
      receivedAt: event.receivedAt,
      doc: JSON.stringify(event),
    });
    if (changes === 0) return;
    this.pruneRejectedGroup.run({
      group: rejectedEventGroup(event),
      keep: MAX_REJECTED_EVENTS_PER_GROUP,
    });
    const received = Date.parse(event.receivedAt);
    if (!Number.isNaN(received)) {
      this.pruneRejectedBefore.run(new Date(received - REJECTED_EVENT_MAX_AGE_MS).toISOString());
    }
    this.pruneRejected.run(keep);
  }

  listRejected(limit: number): RejectedEvent[] {
    return this.selectRejected.all(limit).map((row) => JSON.parse(row.doc) as RejectedEvent);
  }
}
