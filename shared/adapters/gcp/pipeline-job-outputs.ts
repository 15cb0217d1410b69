/**
 * Derives a training-completed message from a Vertex AI PipelineJob as the
 * Node gRPC client returns it (reference/vertex-pipeline-outputs.md): enums
 * as strings, int64 as strings, Struct as `{fields: {k: {numberValue, kind}}}`,
 * Timestamp as `{seconds, nanos}`. Pure: no client, no I/O. Reading metrics
 * from the pushed model happens between the two steps, in the adapter:
 * inspectPipelineJob finds the pushed model, toResolvedPipelineJob assembles
 * and validates the message.
 */
import { parseTrainingCompletedV1 } from '@recdeploy/events';
import { TransientError } from '../../errors.js';
import { sanitizeLabelValue } from '../../domain/registry-labels.js';
import type { ResolvedPipelineJob } from '../../ports/pipeline-jobs.port.js';
import type { PipelineJobInput, PipelineTaskInput } from './pipeline-job-input.js';
import {
  deprecatedTextOf,
  isoOf,
  numberOf,
  own,
  structOf,
  textOf,
} from './pipeline-proto-values.js';
import { findPush, invalid } from './pipeline-pusher.js';

export * from './pipeline-job-input.js';

// ------------------------------------------------ results

export interface InspectOptions {
  /** Task name of the Pusher to deploy from; default: the task that outputs a pushed tfx.PushedModel. */
  readonly pusherTask?: string;
}

/**
 * A training-completed message before validation: values read from the job
 * (a run_number parameter that is not a number, an unknown model_type…) are
 * kept as found, so the schema can say what is wrong with them.
 */
export interface TrainingCompletedDraft {
  readonly schema_version: '1';
  readonly training_run_id: string;
  readonly model_endpoint_id: string;
  readonly model_slug: string;
  readonly run_number: number | string;
  readonly model_type: string;
  readonly retrieval_algorithm: string;
  readonly artifact_uri: string;
  readonly is_blessed: boolean;
  readonly metrics: Readonly<Record<string, number>>;
  readonly completed_at?: string;
}

/** A job that pushed a model: what is known before the pushed model's own metrics are read. */
export interface PushedModelDraft {
  readonly kind: 'pushed_model';
  readonly pipelineJob: string;
  /** The versioned directory the Pusher wrote (`metadata.pushed_destination`). */
  readonly pushedDestination: string;
  readonly message: TrainingCompletedDraft;
}

export type PipelineJobInspection =
  PushedModelDraft | Extract<ResolvedPipelineJob, { kind: 'nothing_to_deploy' }>;

// ------------------------------------------------ rules

const FINISHED_FAILED = new Set(['PIPELINE_STATE_FAILED', 'PIPELINE_STATE_CANCELLED']);
const SUCCEEDED = 'PIPELINE_STATE_SUCCEEDED';
// PipelineState by number (pipeline_state.proto), should a client hand numbers over.
const PIPELINE_STATES = [
  'PIPELINE_STATE_UNSPECIFIED',
  'PIPELINE_STATE_QUEUED',
  'PIPELINE_STATE_PENDING',
  'PIPELINE_STATE_RUNNING',
  'PIPELINE_STATE_SUCCEEDED',
  'PIPELINE_STATE_FAILED',
  'PIPELINE_STATE_CANCELLING',
  'PIPELINE_STATE_CANCELLED',
  'PIPELINE_STATE_PAUSED',
];
const MODEL_BLESSING = 'tfx.ModelBlessing';
const DEFAULT_EVALUATOR = 'Evaluator';
/** The identity fields a job may carry as runtime parameters or labels, by their message name. */
const IDENTITY_FIELDS = [
  'training_run_id',
  'model_endpoint_id',
  'model_slug',
  'run_number',
  'model_type',
  'retrieval_algorithm',
] as const;
type IdentityField = (typeof IDENTITY_FIELDS)[number];

/**
 * Reads a pipeline job: still running → TransientError `PIPELINE.NOT_FINISHED`
 * (the log entry came early; the bus retries); FAILED or CANCELLED, or
 * SUCCEEDED without a push (`pushed` ≠ 1, Pusher NOT_TRIGGERED, no Pusher) →
 * `nothing_to_deploy` with the reason; pushed → the draft message.
 *
 * The draft's identity comes from runtime parameters (`parameterValues` or the
 * deprecated `parameters`), then job labels, named like the message fields;
 * defaults: training_run_id = the job id, model_slug = the sanitised pipeline
 * name (else display name), run_number = `pushed_version` (else 0),
 * model_type `retrieval`, retrieval_algorithm `brute_force`. model_endpoint_id
 * has no default. is_blessed is the Evaluator's `blessed == 1`; with no
 * `blessed` (an Evaluator without thresholds, or none) it is true, because a
 * TFX Pusher only pushes a model its blessing inputs allowed. metrics start
 * as the numeric blessing metadata other than `blessed`. A cached (SKIPPED)
 * Pusher reports an earlier push and counts as pushed.
 * @throws PermanentError `PIPELINE.INVALID` when the outputs cannot be read
 *   (several Pushers pushed and none is configured, several Evaluators and
 *   none named Evaluator, a destination that is not gs:// or file://, no
 *   model_endpoint_id).
 */
export function inspectPipelineJob(
  job: PipelineJobInput,
  options: InspectOptions = {},
): PipelineJobInspection {
  const pipelineJob = job.name ?? '';
  const state = pipelineStateOf(job.state);
  if (FINISHED_FAILED.has(state)) {
    const message = job.error?.message || 'no error message';
    return {
      kind: 'nothing_to_deploy',
      pipelineJob,
      reason: `pipeline job ${pipelineJob} ended ${state}: ${message}`,
    };
  }
  if (state !== SUCCEEDED) {
    throw new TransientError(
      'PIPELINE.NOT_FINISHED',
      `pipeline job ${pipelineJob} is ${state}, not finished yet; try again later`,
      { metadata: { pipelineJob, state } },
    );
  }
  const tasks = job.jobDetail?.taskDetails ?? [];
  const push = findPush(pipelineJob, tasks, options.pusherTask);
  const blessing = findBlessing(tasks);
  if (push.kind === 'not_pushed') {
    return {
      kind: 'nothing_to_deploy',
      pipelineJob,
      reason: `${push.reason} (${describeBlessing(blessing)})`,
    };
  }
  if (blessing.kind === 'ambiguous') {
    throw invalid(
      pipelineJob,
      `pipeline job ${pipelineJob} has ${blessing.evaluators.length} Evaluators ` +
        `(${blessing.evaluators.join(', ')}) and none is named ${DEFAULT_EVALUATOR}: ` +
        'cannot tell which blessing applies',
    );
  }
  const identity = readIdentity(job);
  const modelEndpointId = identity.model_endpoint_id;
  if (modelEndpointId === undefined) {
    throw invalid(
      pipelineJob,
      `pipeline job ${pipelineJob} does not say which model endpoint it trains: add a runtime ` +
        'parameter or a job label named model_endpoint_id',
    );
  }
  const completedAt = job.endTime ? isoOf(job.endTime) : undefined;
  const message: TrainingCompletedDraft = {
    schema_version: '1',
    training_run_id: identity.training_run_id ?? lastSegment(pipelineJob),
    model_endpoint_id: modelEndpointId,
    model_slug: identity.model_slug ?? slugOf(pipelineNameOf(job) ?? job.displayName ?? ''),
    run_number:
      identity.run_number !== undefined
        ? runNumberOf(identity.run_number)
        : (integerOf(push.version ?? '') ?? 0),
    model_type: identity.model_type ?? 'retrieval',
    retrieval_algorithm: identity.retrieval_algorithm ?? 'brute_force',
    artifact_uri: push.destination,
    is_blessed: blessing.blessed === undefined ? true : blessing.blessed === 1,
    metrics: blessing.metrics,
    ...(completedAt !== undefined && { completed_at: completedAt }),
  };
  return { kind: 'pushed_model', pipelineJob, pushedDestination: push.destination, message };
}

/**
 * Completes a draft with the metrics read from the pushed model (they win
 * over blessing metadata of the same name: the trainer's file is the
 * deliberate statement) and validates it as training-completed v1.
 * @throws PermanentError `PIPELINE.INVALID` with the schema's reason.
 */
export function toResolvedPipelineJob(
  draft: PushedModelDraft,
  bundleMetrics: Readonly<Record<string, number>> = {},
): ResolvedPipelineJob {
  const candidate = { ...draft.message, metrics: { ...draft.message.metrics, ...bundleMetrics } };
  const parsed = parseTrainingCompletedV1(candidate);
  if (!parsed.ok) {
    throw invalid(
      draft.pipelineJob,
      `pipeline job ${draft.pipelineJob} does not make a valid training-completed message: ` +
        parsed.rejection.reason,
    );
  }
  return { kind: 'pushed', pipelineJob: draft.pipelineJob, message: parsed.value };
}

// ------------------------------------------------ the Evaluator

type Blessing =
  | { readonly kind: 'found'; readonly blessed?: number; readonly metrics: Record<string, number> }
  | { readonly kind: 'ambiguous'; readonly evaluators: readonly string[] };

/** The tfx.ModelBlessing `blessing` output: of the task named Evaluator when several have one. */
function findBlessing(tasks: readonly PipelineTaskInput[]): Blessing {
  const evaluators = tasks.flatMap((task) => {
    const artifacts = task.outputs?.blessing?.artifacts ?? [];
    const artifact = artifacts.find((a) => a.schemaTitle === MODEL_BLESSING);
    return artifact ? [{ name: task.taskName ?? '', metadata: artifact.metadata ?? {} }] : [];
  });
  const chosen =
    evaluators.length > 1 ? evaluators.find((e) => e.name === DEFAULT_EVALUATOR) : evaluators[0];
  if (evaluators.length > 1 && chosen === undefined) {
    return { kind: 'ambiguous', evaluators: evaluators.map((e) => e.name) };
  }
  if (chosen === undefined) return { kind: 'found', metrics: {} };
  const metrics: Record<string, number> = {};
  let blessed: number | undefined;
  for (const [key, value] of Object.entries(chosen.metadata.fields ?? {})) {
    const number = numberOf(value);
    if (number === undefined) continue;
    if (key === 'blessed') blessed = number;
    else metrics[key] = number;
  }
  return { kind: 'found', ...(blessed !== undefined && { blessed }), metrics };
}

function describeBlessing(blessing: Blessing): string {
  if (blessing.kind === 'ambiguous') return `several Evaluators: ${blessing.evaluators.join(', ')}`;
  return blessing.blessed === undefined
    ? 'no blessed value recorded'
    : `blessed = ${blessing.blessed}`;
}

// ------------------------------------------------ identity

function readIdentity(job: PipelineJobInput): Partial<Record<IdentityField, string>> {
  const parameterValues = job.runtimeConfig?.parameterValues ?? {};
  const parameters = job.runtimeConfig?.parameters ?? {};
  const labels = job.labels ?? {};
  const identity: Partial<Record<IdentityField, string>> = {};
  for (const field of IDENTITY_FIELDS) {
    const value =
      textOf(own(parameterValues, field)) ??
      deprecatedTextOf(own(parameters, field)) ??
      own(labels, field);
    if (value !== undefined && value !== '') identity[field] = value;
  }
  return identity;
}

/** A given run_number: an integer if it is one, else as found, for the schema to name. */
function runNumberOf(text: string): number | string {
  return integerOf(text) ?? text;
}

function integerOf(text: string): number | undefined {
  const number = Number(text);
  return /^\d+$/.test(text) && Number.isSafeInteger(number) ? number : undefined;
}

function pipelineNameOf(job: PipelineJobInput): string | undefined {
  const info = job.pipelineSpec?.fields?.pipelineInfo;
  const name = info && structOf(info)?.fields?.name;
  const text = name && textOf(name);
  return text === '' ? undefined : text;
}

/** A model slug from a free-text name: lowercase, `[a-z0-9_-]`, starting with a letter or digit. */
function slugOf(name: string): string {
  return sanitizeLabelValue(name).replace(/^[_-]+/, '');
}

function lastSegment(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

// ------------------------------------------------ small helpers

function pipelineStateOf(state: string | number | null | undefined): string {
  if (typeof state === 'number') return PIPELINE_STATES[state] ?? `PipelineState ${state}`;
  return state || 'PIPELINE_STATE_UNSPECIFIED';
}
