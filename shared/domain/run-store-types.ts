/**
 * The commands and answers of the RunStore as plain data. They live in the
 * domain because the domain's pure decisions (run-commands, step-commands,
 * service-lease) take and return them; shared/ports/run-store.port.ts
 * re-exports them with the RunStore interface. Dependencies point inward:
 * the domain never imports a port.
 */
import type { CanaryState } from './canary-state.js';
import type { RunDocument, RunPatch, RunStatus, StepError, StepName } from './run-document.js';

/** When and why a write happens; every write records its delivering event. */
export interface WriteContext {
  /** The CloudEvent id that caused the write (kept in the history). */
  readonly eventId?: string;
  /** Defaults to the store's clock. */
  readonly now?: Date;
}

export type CreateRunResult =
  | { readonly kind: 'created'; readonly run: RunDocument }
  | { readonly kind: 'exists'; readonly run: RunDocument };

export interface ClaimStepRequest extends WriteContext {
  readonly runId: string;
  readonly step: StepName;
  /** Who is attempting the step (e.g. function instance + event id). */
  readonly owner: string;
  /** How long the claim holds before another delivery may take the step over. */
  readonly leaseMs: number;
}

/**
 * The outcome of claiming a step before any side effect:
 * - `claimed`: go ahead (attempt n); the run moved to the step's in-progress status.
 * - `busy`: another attempt holds an unexpired lease: answer non-2xx so the
 *   message comes back later.
 * - `done`: the step already succeeded: a duplicate; answer 2xx, do nothing.
 * - `closed`: the run ended (failed, skipped, rolled back): answer 2xx, do nothing.
 * - `not_ready`: the previous step has not finished yet: answer non-2xx.
 */
export type ClaimStepResult =
  | { readonly kind: 'claimed'; readonly run: RunDocument; readonly attempt: number }
  | { readonly kind: 'busy'; readonly run: RunDocument; readonly leaseExpiresAt: string }
  | { readonly kind: 'done'; readonly run: RunDocument }
  | { readonly kind: 'closed'; readonly run: RunDocument }
  | { readonly kind: 'not_ready'; readonly run: RunDocument };

export interface CompleteStepRequest extends WriteContext {
  readonly runId: string;
  readonly step: StepName;
  readonly owner: string;
  readonly patch?: RunPatch;
}

export interface FailStepRequest extends WriteContext {
  readonly runId: string;
  readonly step: StepName;
  readonly owner: string;
  readonly error: StepError;
  /** Permanent: the run becomes failed. Otherwise the step is released for a retry. */
  readonly permanent: boolean;
  /**
   * With permanent: end the run as `skipped` instead of `failed` (a newer run
   * superseded it while this step held it); the error says why.
   */
  readonly endAs?: 'failed' | 'skipped';
  /** Results worth keeping even though the step failed (e.g. the verification checks). */
  readonly patch?: RunPatch;
}

export interface TransitionRequest extends WriteContext {
  readonly runId: string;
  readonly to: RunStatus;
  readonly reason?: string;
  readonly patch?: RunPatch;
}

/** `changed: false` means the transition had already happened (a no-op). */
export interface TransitionResult {
  readonly changed: boolean;
  readonly run: RunDocument;
}

export interface ServiceLeaseRequest {
  readonly service: string;
  readonly runId: string;
  readonly ttlMs: number;
  readonly now?: Date;
}

export type ServiceLeaseResult =
  | { readonly acquired: true; readonly expiresAt: string }
  | { readonly acquired: false; readonly holder: string; readonly expiresAt: string };

export interface RunQuery {
  readonly status?: RunStatus;
  readonly modelEndpointId?: string;
  /** Newest first by updatedAt; default 50, at most 500. */
  readonly limit?: number;
}

/** An event that could never be processed, kept with the reason it was refused. */
export interface RejectedEvent {
  /** The CloudEvent id; for a delivery without one, `no-id:` + a digest of what arrived. */
  readonly eventId: string;
  readonly code: string;
  readonly reason: string;
  /**
   * What arrived, as a short stable phrase ("Cloud Audit Log entry", "HTTP
   * GET", "Vertex PipelineJob in state FAILED"): what views group by, and
   * what the store bounds per (rejectedEventGroup).
   */
  readonly kind?: string;
  readonly source?: string;
  /** The start of the raw payload, bounded, for diagnosis. */
  readonly excerpt?: string;
  readonly receivedAt: string;
}

/** A change seen by watch(): the run as it is after the change. */
export interface RunChange {
  readonly run: RunDocument;
}

export type Unsubscribe = () => void;

/**
 * A canary's next state, written only if the stored one still has `expectSeq`
 * (canary-commands.ts): two ticks never both decide.
 */
export interface UpdateCanaryRequest extends WriteContext {
  readonly runId: string;
  readonly expectSeq: number;
  readonly canary: CanaryState;
  /** With an aborted canary: the run ends rolled_back, with this reason. */
  readonly endAs?: { readonly status: 'rolled_back'; readonly reason: string };
}

export interface UpdateCanaryResult {
  /** False when the stored canary moved on (another tick wrote first) or the run left `canary`. */
  readonly updated: boolean;
  readonly run: RunDocument;
}

/** A promoted canary goes live in recordServing's transaction (serving-record.ts). */
export interface FinishCanaryRequest {
  readonly runId: string;
  readonly expectSeq: number;
  readonly canary: CanaryState;
}
