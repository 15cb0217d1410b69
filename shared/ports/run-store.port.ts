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
} from '../domain/run-store-types.js';

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

  /** One deploy at a time per serving service; re-entrant for the holder. */
  acquireServiceLease(request: ServiceLeaseRequest): Promise<ServiceLeaseResult>;
  releaseServiceLease(service: string, runId: string): Promise<void>;

  recordRejectedEvent(event: RejectedEvent): Promise<void>;
  listRejectedEvents(limit?: number): Promise<readonly RejectedEvent[]>;

  /** Calls `listener` with every run changed after the call, in commit order. */
  watch(listener: (change: RunChange) => void): Unsubscribe;
  close(): Promise<void>;
}
