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
  /**
   * The revision with the largest share (column `live_revision`): the live
   * one when it has 100%, the stable one during a canary step that leaves
   * it most of the traffic.
   */
  readonly primaryRevision: string | undefined;
  /** The rollback target: the revision the last change of the primary revision replaced. */
  readonly previousRevision: string | undefined;
  readonly updatedAt: string;
}

/** One revision's share of a service's traffic, as stored (serving_traffic). */
export interface StoredShare {
  readonly revision: string;
  readonly percent: number;
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

/** One change of a service's primary revision (the live one when it has 100%). */
export interface TrafficChange {
  readonly revision: string;
  readonly fromRevision?: string;
  readonly at: string;
}

/** One change of a service's split: a canary step, a promote or a rollback. */
export interface TrafficSplitChange {
  readonly split: readonly StoredShare[];
  readonly reason: TrafficChangeReason;
  readonly at: string;
}

export type TrafficChangeReason = 'split' | 'promote' | 'rollback';

/** What the router needs per request: one row per revision with a share. */
export interface RouteTarget {
  readonly revision: string;
  readonly port: number;
  readonly state: RevisionState;
  readonly percent: number;
  /** The revision spec's request timeout (resources.timeoutS). */
  readonly timeoutS: number;
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
 * those with a share and the previous revision, and except candidates
 * deployed after the primary one that have never had traffic (a newer run's
 * revision waiting for verification is not superseded by an older run's
 * promote).
 */
export function supersededRevisions(
  revisions: readonly RevisionRecord[],
  service: Pick<ServiceRecord, 'primaryRevision' | 'previousRevision'>,
  shares: readonly StoredShare[],
): RevisionRecord[] {
  const primary = revisions.find((r) => r.revision === service.primaryRevision);
  const sharing = new Set(shares.map((share) => share.revision));
  return revisions.filter(
    (r) =>
      (r.state === 'ready' || r.state === 'starting') &&
      !sharing.has(r.revision) &&
      r.revision !== service.previousRevision &&
      !(r.servedAt === undefined && primary !== undefined && r.seq > primary.seq),
  );
}

export function toService(row: ServiceRow): ServiceRecord {
  return {
    name: row.name,
    routerPort: row.router_port,
    primaryRevision: row.live_revision ?? undefined,
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
