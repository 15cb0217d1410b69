/**
 * The run document (DESIGN.md §4): one per training run, the source of truth
 * every step reads and writes and every dashboard shows. Field names are the
 * stored names (camelCase); timestamps are ISO-8601 strings in UTC.
 */
import type { CanaryState } from './canary-state.js';
import type { RolloutRequest } from './rollout-plan.js';

export const RUN_STATUSES = [
  'received',
  'registering',
  'registered',
  'deploying',
  'deployed',
  'verifying',
  'canary',
  'live',
  'failed',
  'skipped',
  'rolled_back',
  'replaced',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const STEP_NAMES = ['register', 'deploy', 'verify'] as const;
export type StepName = (typeof STEP_NAMES)[number];

export type ModelType = 'retrieval' | 'ranking' | 'multitask';
export type RetrievalAlgorithm = 'brute_force' | 'scann' | 'hnsw';

/** Optional serving settings a training run may ask for. */
export interface DeploymentConfig {
  readonly memory?: string;
  readonly cpu?: string;
  readonly minInstances?: number;
  readonly maxInstances?: number;
  readonly timeoutS?: number;
  readonly concurrency?: number;
  readonly runtime?: string;
  readonly public?: boolean;
  /** Within the operator's rollout policy: a run may only make its rollout more careful. */
  readonly rollout?: RolloutRequest;
}

/** What identifies a training run and its model; fixed when the run is created. */
export interface RunIdentity {
  readonly trainingRunId: string;
  readonly modelEndpointId: string;
  readonly modelSlug: string;
  readonly runNumber: number;
  readonly modelType: ModelType;
  readonly retrievalAlgorithm: RetrievalAlgorithm;
  readonly artifactUri: string;
  readonly isBlessed: boolean;
  readonly metrics: Readonly<Record<string, number>>;
  readonly deploymentConfig?: DeploymentConfig;
  readonly completedAt?: string;
}

export interface StepError {
  readonly code: string;
  readonly message: string;
}

/** `skipped`: the run was skipped while this step held it (superseded, not blessed). */
export type StepStatus = 'pending' | 'in_progress' | 'succeeded' | 'failed' | 'skipped';

/**
 * One step's progress. `lease` is set while an attempt holds the step; the
 * attempt renews it (heartbeat) while it runs, so a dead attempt's lease
 * lapses within one lease period. `handOffAt` is when the message that starts
 * this step was last published (by the previous step, a duplicate delivery,
 * the reconciler or an operator): a hand-off is republished at most once per
 * window, however many duplicates arrive.
 */
export interface StepState {
  readonly status: StepStatus;
  readonly attempts: number;
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly error?: StepError;
  readonly lease?: { readonly owner: string; readonly expiresAt: string };
  readonly handOffAt?: string;
}

export interface RegistryRef {
  readonly model: string;
  readonly version: string;
}

export interface ServingRef {
  /** `tf-serving` or `ann-serving` (serving-platform.port.ts RuntimeName). */
  readonly runtime: string;
  /** ann-serving's SERVING_MODE (`ann` or `exact`); absent for TF Serving. */
  readonly mode?: string;
  /** Why the routing policy chose this runtime (and any local substitution). */
  readonly runtimeReason?: string;
  readonly image?: string;
  readonly service: string;
  readonly revision?: string;
  readonly url?: string;
  readonly tagUrl?: string;
}

export interface VerificationCheck {
  readonly name: string;
  readonly passed: boolean;
  /**
   * The check could not run and counts neither way (`replay` with no sample
   * of live queries yet): `passed` is false, the detail says why, and the
   * verification passes when every other check passed (verificationPassed).
   */
  readonly skipped?: boolean;
  readonly detail?: string;
}

/**
 * What identifies the model a revision serves, from training run to answer:
 * the training run that produced the bundle (when the bundle says) and
 * sha256 digests of the query model's weights and of the candidate
 * embeddings; `id` is the short digest of both that ann-serving sends in
 * its `X-Recdeploy-Fingerprint` header.
 */
export interface ModelFingerprint {
  readonly trainingRunId?: string;
  readonly id: string;
  readonly queryModelSha256: string;
  readonly candidatesSha256: string;
}

/**
 * Replay of a sample of the live revision's real predict instances against
 * the candidate (its tag URL) and the live revision, before traffic moves.
 */
export interface ReplayReport {
  /** Where the sample was read (a file path or gs:// object). */
  readonly sampleUri: string;
  /** When the live revision last wrote the sample. */
  readonly sampledAt?: string;
  /** The revision whose traffic was sampled and that answered the live side. */
  readonly liveRevision?: string;
  /** Instances replayed. */
  readonly queries: number;
  readonly k: number;
  /** Candidate's ANN answers against its own exact search on these queries (ANN only). */
  readonly recallAtK?: number;
  /** Mean |candidate top-k ∩ live top-k| / k; absent when the live revision did not answer. */
  readonly overlapAtK?: number;
  /** Share of the candidate's answers that were empty or degenerate (fewer than k, placeholders, NaN). */
  readonly degenerateShare: number;
  readonly candidateLatencyP50Ms: number;
  readonly candidateLatencyP99Ms: number;
  readonly liveLatencyP50Ms?: number;
  readonly liveLatencyP99Ms?: number;
}

export interface Verification {
  readonly checks: readonly VerificationCheck[];
  readonly latencyP50Ms?: number;
  readonly latencyP99Ms?: number;
  readonly recallAtK?: { readonly k: number; readonly recall: number };
  /** The fingerprint the tagged revision had to serve (computed from the run's bundle). */
  readonly fingerprint?: ModelFingerprint;
  readonly replay?: ReplayReport;
}

/** A verification passes when at least one check passed and every check passed or was skipped. */
export function verificationPassed(checks: readonly VerificationCheck[]): boolean {
  return (
    checks.some((check) => check.passed) &&
    checks.every((check) => check.passed || check.skipped === true)
  );
}

/** One entry of the bounded transition history. */
export interface HistoryEntry {
  readonly at: string;
  readonly from: RunStatus | null;
  readonly to: RunStatus;
  readonly eventId?: string;
  readonly reason?: string;
}

/** An operator asked for this run to be deployed (`recdeploy deploy`): recorded as such. */
export interface ManualDeploy {
  readonly requestedAt: string;
  /** The operator allowed a run the Evaluator did not bless. */
  readonly allowUnblessed: boolean;
  /** The status the run had when it was asked for (skipped, failed, replaced, …). */
  readonly fromStatus: RunStatus;
}

export interface RunDocument extends RunIdentity {
  /** `{modelEndpointId}-{trainingRunId}`, see runKey(). */
  readonly runId: string;
  readonly status: RunStatus;
  /** Why the run is in its status, for skipped/failed/rolled_back/replaced runs. */
  readonly statusReason?: string;
  /** With status `replaced`: the run whose revision took the traffic. */
  readonly replacedBy?: string;
  /** Set while (and after) an operator's on-demand deploy: supersession does not apply to it. */
  readonly manualDeploy?: ManualDeploy;
  readonly steps: Readonly<Record<StepName, StepState>>;
  readonly registry?: RegistryRef;
  readonly serving?: ServingRef;
  readonly verification?: Verification;
  /** A canary rollout's state (status `canary`, and kept after it ends). */
  readonly canary?: CanaryState;
  readonly history: readonly HistoryEntry[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** The parts of a run document a step may fill in when it finishes. */
export interface RunPatch {
  readonly registry?: RegistryRef;
  readonly serving?: ServingRef;
  readonly verification?: Verification;
  readonly canary?: CanaryState;
}

/** The stable document id of a run: `{model_endpoint_id}-{training_run_id}`. */
export function runKey(identity: Pick<RunIdentity, 'modelEndpointId' | 'trainingRunId'>): string {
  return `${identity.modelEndpointId}-${identity.trainingRunId}`;
}
