/**
 * Read-only views of a local stack's data directory, straight from its SQLite
 * files (WAL: reading never blocks the stack, and works while no stack runs):
 * runs.db (run documents, serving records), registry.db (model versions),
 * serving.db (revisions, traffic changes) and bus.db (deliveries).
 * Each call opens the file, reads and closes it, so a reader never holds
 * anything across a kill and restart of the stack.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { RunDocument, ServingRecord } from '@recdeploy/shared';

/** The push subscriptions of the stack's three functions (stack-bus.ts names them `{topic}-push`). */
export const FUNCTION_SUBSCRIPTIONS = [
  'training-completed-push',
  'model-registered-push',
  'model-deployed-push',
] as const;

function read<T>(file: string, work: (db: Database.Database) => T, absent: T): T {
  if (!fs.existsSync(file)) return absent;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return work(db);
  } finally {
    db.close();
  }
}

export function readRun(dataDir: string, runId: string): RunDocument | undefined {
  return read(
    path.join(dataDir, 'runs.db'),
    (db) => {
      const row = db.prepare('SELECT doc FROM deployments WHERE id = ?').get(runId) as
        { doc: string } | undefined;
      return row === undefined ? undefined : (JSON.parse(row.doc) as RunDocument);
    },
    undefined,
  );
}

/** Every run of a model endpoint. */
export function readRunsOf(dataDir: string, modelEndpointId: string): RunDocument[] {
  return read(
    path.join(dataDir, 'runs.db'),
    (db) =>
      (
        db
          .prepare('SELECT doc FROM deployments WHERE model_endpoint_id = ?')
          .all(modelEndpointId) as { doc: string }[]
      ).map((row) => JSON.parse(row.doc) as RunDocument),
    [],
  );
}

export function readServingRecord(dataDir: string, service: string): ServingRecord | undefined {
  return read(
    path.join(dataDir, 'runs.db'),
    (db) => {
      const row = db.prepare('SELECT doc FROM serving_records WHERE service = ?').get(service) as
        { doc: string } | undefined;
      return row === undefined ? undefined : (JSON.parse(row.doc) as ServingRecord);
    },
    undefined,
  );
}

export interface RegistryVersionRow {
  readonly model: string;
  readonly version: number;
  readonly runId: string;
}

/** The registry's versions carrying `runId` (local-model-registry.ts: registry_versions). */
export function registryVersionsOf(dataDir: string, runId: string): RegistryVersionRow[] {
  return read(
    path.join(dataDir, 'registry.db'),
    (db) =>
      db
        .prepare(
          'SELECT model, version, run_id AS runId FROM registry_versions WHERE run_id = ? ORDER BY version',
        )
        .all(runId) as RegistryVersionRow[],
    [],
  );
}

export interface RevisionRow {
  readonly revision: string;
  readonly state: string;
  readonly pid: number | null;
  readonly servedAt: string | null;
}

/** The platform's revisions of a service, in deployment order (serving.db: serving_revisions). */
export function revisionsOf(dataDir: string, service: string): RevisionRow[] {
  return read(
    path.join(dataDir, 'serving.db'),
    (db) =>
      db
        .prepare(
          'SELECT revision, state, pid, served_at AS servedAt FROM serving_revisions WHERE service = ? ORDER BY seq',
        )
        .all(service) as RevisionRow[],
    [],
  );
}

/** Every pid the platform recorded for a revision process (any service). */
export function revisionPids(dataDir: string): number[] {
  return read(
    path.join(dataDir, 'serving.db'),
    (db) =>
      db
        .prepare('SELECT pid FROM serving_revisions WHERE pid IS NOT NULL')
        .pluck()
        .all() as number[],
    [],
  );
}

export interface TrafficChangeRow {
  readonly revision: string;
  readonly fromRevision: string | null;
  readonly at: string;
}

/** Every change of a service's live revision, oldest first (serving.db: serving_traffic_changes). */
export function trafficChangesOf(dataDir: string, service: string): TrafficChangeRow[] {
  return read(
    path.join(dataDir, 'serving.db'),
    (db) =>
      db
        .prepare(
          'SELECT revision, from_revision AS fromRevision, at FROM serving_traffic_changes WHERE service = ? ORDER BY seq',
        )
        .all(service) as TrafficChangeRow[],
    [],
  );
}

export interface TrafficSplitRow {
  /** The shares the change set, e.g. [{revision, percent}, …]. */
  readonly split: readonly { readonly revision: string; readonly percent: number }[];
  readonly reason: 'split' | 'promote' | 'rollback';
  readonly at: string;
}

/** Every change of a service's traffic split, oldest first (serving.db: serving_traffic_history). */
export function trafficSplitsOf(dataDir: string, service: string): TrafficSplitRow[] {
  return read(
    path.join(dataDir, 'serving.db'),
    (db) =>
      (
        db
          .prepare(
            'SELECT split, reason, at FROM serving_traffic_history WHERE service = ? ORDER BY seq',
          )
          .all(service) as { split: string; reason: TrafficSplitRow['reason']; at: string }[]
      ).map((row) => ({ ...row, split: JSON.parse(row.split) as TrafficSplitRow['split'] })),
    [],
  );
}

/** The revision the service's router sends traffic to (serving.db: serving_services). */
export function platformLiveRevision(dataDir: string, service: string): string | undefined {
  return read(
    path.join(dataDir, 'serving.db'),
    (db) =>
      (db
        .prepare('SELECT live_revision FROM serving_services WHERE name = ?')
        .pluck()
        .get(service) as string | null | undefined) ?? undefined,
    undefined,
  );
}

export interface DeliveryCounts {
  /** Waiting for a first attempt, a retry, or an answer right now. */
  readonly pending: number;
  readonly dead: number;
}

/** Deliveries of the given subscriptions still in the bus (an acknowledged one is deleted). */
export function deliveryCounts(
  dataDir: string,
  subscriptions: readonly string[] = FUNCTION_SUBSCRIPTIONS,
): DeliveryCounts {
  return read(
    path.join(dataDir, 'bus.db'),
    (db) => {
      const marks = subscriptions.map(() => '?').join(', ');
      const rows = db
        .prepare(
          `SELECT state, COUNT(*) AS n FROM bus_deliveries WHERE subscription IN (${marks}) GROUP BY state`,
        )
        .all(...subscriptions) as { state: string; n: number }[];
      const count = (state: string) => rows.find((row) => row.state === state)?.n ?? 0;
      return { pending: count('pending'), dead: count('dead') };
    },
    { pending: 0, dead: 0 },
  );
}
