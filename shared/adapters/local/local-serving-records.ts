import type { RevisionSpec, RuntimeName } from '../../ports/serving-platform.port.js';

/**
 * The local serving platform's records as the code sees them, the rows they
 * are stored as, and the mapping between the two (local-serving-state.ts
 * reads and writes them).
 */

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

/** One change of a service's live revision. */
export interface TrafficChange {
  readonly revision: string;
  readonly fromRevision?: string;
  readonly at: string;
}

/** What the router needs per request. */
export interface LiveTarget {
  readonly revision: string;
  readonly port: number;
  readonly state: RevisionState;
}

export interface ServiceRow {
  name: string;
  router_port: number;
  live_revision: string | null;
  previous_revision: string | null;
  updated_at: string;
}

export interface RevisionRow {
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

export function toService(row: ServiceRow): ServiceRecord {
  return {
    name: row.name,
    routerPort: row.router_port,
    liveRevision: row.live_revision ?? undefined,
    previousRevision: row.previous_revision ?? undefined,
    updatedAt: row.updated_at,
  };
}

export function toRevision(row: RevisionRow): RevisionRecord {
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
