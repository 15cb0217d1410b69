/**
 * The serving record's shapes (serving-record.ts decides them): what the
 * platform observes, the record kept per service, and a recordServing
 * request and its answer.
 */
import type { RunDocument } from './run-document.js';
import type { CompleteStepRequest, FinishCanaryRequest, WriteContext } from './run-store-types.js';

/** One revision's share of a service's traffic. */
export interface ServingShare {
  readonly revision: string;
  readonly percent: number;
  /** The run that deployed the revision, when the store knows it. */
  readonly runId?: string;
  readonly tag?: string;
}

export interface ServingRecord {
  readonly service: string;
  readonly modelEndpointId: string;
  readonly serviceUrl?: string;
  /** The revision with the traffic (all of it, or the largest share). */
  readonly liveRevision?: string;
  readonly liveRunId?: string;
  /** Every revision with a share above 0, largest first. */
  readonly traffic: readonly ServingShare[];
  /** When liveRevision was first observed serving. */
  readonly since?: string;
  /** The revision that served before liveRevision, and until when. */
  readonly previous?: {
    readonly revision: string;
    readonly runId?: string;
    readonly until: string;
  };
  /** What made the last change (a promote, a rollback, the reconciler's observation). */
  readonly cause: string;
  /** When the platform was last read for a change of this record. */
  readonly observedAt: string;
}

/** A service's traffic as the platform reports it (the ServingPlatform's ServiceTraffic fits). */
export interface ObservedTraffic {
  readonly serviceUrl: string;
  readonly liveRevision?: string;
  readonly targets: readonly {
    readonly revision: string;
    readonly percent: number;
    readonly tag?: string;
  }[];
}

export interface RecordServingRequest extends WriteContext {
  readonly service: string;
  readonly modelEndpointId: string;
  readonly observed: ObservedTraffic;
  /** Said in the record and in the history of every run it moves. */
  readonly cause: string;
  /** Verify's completion, committed in the same transaction (no moment with two live runs). */
  readonly complete?: CompleteStepRequest;
  /**
   * With `complete`: verification passed and the revision starts a canary at
   * its first step's share; the run becomes `canary`, the live run stays live.
   */
  readonly startsCanary?: boolean;
  /** A promoted canary: its run becomes live (and the one it replaces, replaced). */
  readonly finishCanary?: FinishCanaryRequest;
}

export interface RecordServingResult {
  readonly record: ServingRecord;
  /** Runs whose document changed, as stored. */
  readonly changedRuns: readonly RunDocument[];
}

export interface ServingDecision {
  readonly record?: ServingRecord;
  readonly runWrites: readonly RunDocument[];
  readonly result: RecordServingResult;
}
