import type { RunDocument, RunIdentity } from '../domain/run-document.js';
import type {
  WriteContext,
  CreateRunResult,
  ClaimStepRequest,
  ClaimStepResult,
  CompleteStepRequest,
  FailStepRequest,
  TransitionRequest,
  TransitionResult,
  ServiceLeaseRequest,
  ServiceLeaseResult,
  RunQuery,
  RejectedEvent,
  RunChange,
  Unsubscribe,
  UpdateCanaryRequest,
  UpdateCanaryResult,
} from '../domain/run-store-types.js';
import type {
  ClaimHandOffRequest,
  ClaimHandOffResult,
  RenewStepLeaseRequest,
} from '../domain/step-hand-off.js';
import type {
  RecordServingRequest,
  RecordServingResult,
  ServingRecord,
} from '../domain/serving-record.js';
import type {
  ReopenedRun,
  RequestDeployRequest,
  RetryRunRequest,
} from '../domain/operator-commands.js';
import type { FreshnessAlert, OpenFreshnessAlertResult } from '../domain/freshness-alert.js';

export type { FreshnessAlert, OpenFreshnessAlertResult } from '../domain/freshness-alert.js';
export type {
  FreshnessBreach,
  FreshnessKind,
  FreshnessLimits,
  FreshnessPolicy,
} from '../domain/freshness.js';

export type {
  ClaimHandOffRequest,
  ClaimHandOffResult,
  RenewStepLeaseRequest,
} from '../domain/step-hand-off.js';
export type {
  ObservedTraffic,
  RecordServingRequest,
  RecordServingResult,
  ServingRecord,
  ServingShare,
} from '../domain/serving-record.js';
export type {
  ReopenedRun,
  RequestDeployRequest,
  RetryRunRequest,
} from '../domain/operator-commands.js';

export type {
  WriteContext,
  CreateRunResult,
  ClaimStepRequest,
  ClaimStepResult,
  CompleteStepRequest,
  FailStepRequest,
  TransitionRequest,
  TransitionResult,
  ServiceLeaseRequest,
  ServiceLeaseResult,
  RunQuery,
  RejectedEvent,
  RunChange,
  Unsubscribe,
  UpdateCanaryRequest,
  UpdateCanaryResult,
  FinishCanaryRequest,
} from '../domain/run-store-types.js';

/**
 * Where run documents live (Firestore in the cloud, SQLite on one machine).
 * Every write is one transaction that enforces the run state machine, so a
 * redelivered event never does anything twice.
 */
export interface RunStore {
  /** Creates the run in `received`, or returns the existing one untouched. */
  createRun(identity: RunIdentity, context?: WriteContext): Promise<CreateRunResult>;
  getRun(runId: string): Promise<RunDocument | undefined>;
  listRuns(query?: RunQuery): Promise<readonly RunDocument[]>;

  claimStep(request: ClaimStepRequest): Promise<ClaimStepResult>;
  /** Finishes a claimed step and moves the run on; a repeat is a no-op. */
  completeStep(request: CompleteStepRequest): Promise<TransitionResult>;
  failStep(request: FailStepRequest): Promise<TransitionResult>;
  /** Moves a run to `to` (skipped, rolled_back, …) if the state machine allows it. */
  transition(request: TransitionRequest): Promise<TransitionResult>;

  /** Heartbeat: extends the lease of a step the owner still holds (RUN.LEASE_LOST otherwise). */
  renewStepLease(request: RenewStepLeaseRequest): Promise<{ readonly expiresAt: string }>;
  /** Marks a step's hand-off as published, at most once per window (step-hand-off.ts). */
  claimHandOff(request: ClaimHandOffRequest): Promise<ClaimHandOffResult>;

  /**
   * Records what the platform observes serving on a service and, in the same
   * transaction, moves the runs of its endpoint to agree (serving-record.ts),
   * optionally completing verify's step too.
   */
  recordServing(request: RecordServingRequest): Promise<RecordServingResult>;
  getServingRecord(service: string): Promise<ServingRecord | undefined>;
  /** Every service's record, by service name. */
  listServingRecords(): Promise<readonly ServingRecord[]>;

  /** An operator's retry of a failed run at its failed step (operator-commands.ts). */
  retryRun(request: RetryRunRequest): Promise<ReopenedRun>;
  /** An operator's on-demand deploy of a registered run (operator-commands.ts). */
  requestDeploy(request: RequestDeployRequest): Promise<ReopenedRun>;
  /** Writes a canary's next state if the stored one is still at `expectSeq` (canary-commands.ts). */
  updateCanary(request: UpdateCanaryRequest): Promise<UpdateCanaryResult>;

  /** One deploy at a time per serving service; re-entrant for the holder (and renews it). */
  acquireServiceLease(request: ServiceLeaseRequest): Promise<ServiceLeaseResult>;
  releaseServiceLease(service: string, runId: string): Promise<void>;

  /**
   * Freshness alerts (freshness-alert.ts): open ones, oldest breach first.
   * Open is create-if-absent by alertId (an existing alert is returned
   * untouched); announced and close are no-ops for an unknown id.
   */
  listFreshnessAlerts(): Promise<readonly FreshnessAlert[]>;
  openFreshnessAlert(alert: FreshnessAlert): Promise<OpenFreshnessAlertResult>;
  markFreshnessAlertAnnounced(alertId: string, at: Date): Promise<void>;
  closeFreshnessAlert(alertId: string): Promise<void>;

  recordRejectedEvent(event: RejectedEvent): Promise<void>;
  listRejectedEvents(limit?: number): Promise<readonly RejectedEvent[]>;

  /** Calls `listener` with every run changed after the call, in commit order. */
  watch(listener: (change: RunChange) => void): Unsubscribe;
  close(): Promise<void>;
}
