/**
 * The second accepted shape of training-completed: a Vertex AI PipelineJob
 * state-change LogEntry that a Cloud Logging sink published to the topic.
 * Only the job's identity (resource labels) and `jsonPayload.state` are
 * trusted; the handler resolves everything else from the pipeline job itself.
 * Only PIPELINE_STATE_SUCCEEDED starts work; other states are acknowledged as
 * ignored, not treated as errors.
 */
import { Type, type Static } from '@sinclair/typebox';
import { PAYLOAD_KINDS } from './payload-kind.js';
import { accepted, ignored, withContext, type ParseResult } from './result.js';
import type { JsonData } from './validation/json-data.js';
import { isRecord } from './envelope/read-fields.js';
import { checkJsonData } from './validation/validate.js';

/** Monitored resource type of Vertex AI pipeline jobs. */
export const PIPELINE_JOB_RESOURCE_TYPE = 'aiplatform.googleapis.com/PipelineJob';
/** The only state that starts a deployment. */
export const PIPELINE_JOB_SUCCEEDED = 'PIPELINE_STATE_SUCCEEDED';

/** Vertex AI's PipelineState values (kinds name the state only when it is one of these). */
const KNOWN_STATES = [
  'UNSPECIFIED',
  'QUEUED',
  'PENDING',
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'CANCELLING',
  'CANCELLED',
  'PAUSED',
];

const JOB_ID = /^[a-z0-9][a-z0-9-]{0,127}$/;
const LOCATION = /^[a-z0-9-]{1,64}$/;
const PROJECT = /^[a-z0-9][a-z0-9.:-]{0,127}$/;

/** The parts of a PipelineJob LogEntry recdeploy reads; the rest of the entry is ignored (and kept). */
export const PipelineJobLogEntrySchema = Type.Object(
  {
    logName: Type.Optional(Type.String({ maxLength: 1024 })),
    resource: Type.Object({
      type: Type.Literal(PIPELINE_JOB_RESOURCE_TYPE),
      labels: Type.Object({
        pipeline_job_id: Type.String({
          maxLength: 128,
          pattern: JOB_ID.source,
          description: 'a pipeline job id: lowercase letters, digits, "-"',
        }),
        location: Type.Optional(
          Type.String({ pattern: LOCATION.source, description: 'a region such as us-central1' }),
        ),
        resource_container: Type.Optional(
          Type.String({ pattern: PROJECT.source, description: 'a project id or number' }),
        ),
      }),
    }),
    jsonPayload: Type.Optional(
      Type.Object({ state: Type.Optional(Type.String({ maxLength: 64 })) }),
    ),
  },
  {
    $id: 'urn:recdeploy:input:vertex-pipeline-job-log-entry',
    title: 'Vertex AI PipelineJob LogEntry (fields recdeploy reads)',
    description:
      'A pipeline_job_events LogEntry delivered by a Cloud Logging sink to the training-completed topic.',
  },
);

/** The fields of a PipelineJob LogEntry recdeploy reads. */
export type PipelineJobLogEntry = Static<typeof PipelineJobLogEntrySchema>;

/** A succeeded pipeline job whose details (artifact, ids, metrics) the handler must resolve. */
export interface PipelineJobToResolve {
  readonly kind: 'resolve_pipeline_job';
  /** The job's resource name when project and location are known, else its id. */
  readonly idempotencyKey: string;
  readonly pipelineJobId: string;
  readonly project?: string;
  readonly location?: string;
  /** `projects/{project}/locations/{location}/pipelineJobs/{id}`, when both are known. */
  readonly pipelineJobName?: string;
}

/** True when a payload looks like a PipelineJob LogEntry (resource type or log name). */
export function looksLikePipelineJobLogEntry(data: unknown): boolean {
  if (!isRecord(data)) return false;
  const resource = data.resource;
  if (isRecord(resource) && resource.type === PIPELINE_JOB_RESOURCE_TYPE) return true;
  return typeof data.logName === 'string' && /pipeline_job_(task_)?events/.test(data.logName);
}

/** Normalises a PipelineJob LogEntry (already a detached JSON copy); never throws. */
export function normalisePipelineJobLogEntry(data: JsonData): ParseResult<PipelineJobToResolve> {
  const key = readJobKey(data.value);
  if (isTaskEntry(data.value)) {
    return ignored(
      'pipeline task log entries (pipeline_job_task_events) do not start a deployment',
      { idempotencyKey: key, kind: PAYLOAD_KINDS.pipelineJobTask },
    );
  }
  const checked = checkJsonData(PipelineJobLogEntrySchema, data, readJobKey);
  if (!checked.ok) {
    const { reason } = checked.rejection;
    return withContext(
      {
        ok: false,
        rejection: {
          ...checked.rejection,
          reason: `invalid ${PAYLOAD_KINDS.pipelineJobEntry}: ${reason}`,
        },
      },
      { kind: PAYLOAD_KINDS.pipelineJobEntry },
    );
  }
  const { labels } = checked.value.resource;
  const state = checked.value.jsonPayload?.state;
  if (state === undefined) {
    return ignored(
      'pipeline job log entry has no jsonPayload.state, so it reports no state change',
      { idempotencyKey: key, kind: PAYLOAD_KINDS.pipelineJobNoState },
    );
  }
  if (state !== PIPELINE_JOB_SUCCEEDED) {
    return ignored(`pipeline job state ${state} does not start a deployment`, {
      idempotencyKey: key,
      kind: stateKind(state),
    });
  }
  const name = jobName(labels.resource_container, labels.location, labels.pipeline_job_id);
  return accepted({
    kind: 'resolve_pipeline_job',
    idempotencyKey: name ?? labels.pipeline_job_id,
    pipelineJobId: labels.pipeline_job_id,
    ...(labels.resource_container !== undefined ? { project: labels.resource_container } : {}),
    ...(labels.location !== undefined ? { location: labels.location } : {}),
    ...(name !== undefined ? { pipelineJobName: name } : {}),
  });
}

/** "Vertex PipelineJob in state FAILED"; an unknown state is not echoed, so kinds stay a small set. */
function stateKind(state: string): string {
  const short = state.replace(/^PIPELINE_STATE_/, '');
  return KNOWN_STATES.includes(short)
    ? `Vertex PipelineJob in state ${short}`
    : 'Vertex PipelineJob in an unrecognised state';
}

function isTaskEntry(data: unknown): boolean {
  if (!isRecord(data)) return false;
  const payload = data.jsonPayload;
  const payloadType = isRecord(payload) ? payload['@type'] : undefined;
  return (
    (typeof data.logName === 'string' && data.logName.includes('pipeline_job_task_events')) ||
    (typeof payloadType === 'string' && payloadType.endsWith('PipelineJobTaskLogEntry'))
  );
}

function jobName(project?: string, location?: string, id?: string): string | undefined {
  return project && location && id
    ? `projects/${project}/locations/${location}/pipelineJobs/${id}`
    : undefined;
}

/** The job's key from labels that pass their patterns, even when the rest of the entry is bad. */
function readJobKey(data: unknown): string | undefined {
  const resource = isRecord(data) ? data.resource : undefined;
  const labels = isRecord(resource) ? resource.labels : undefined;
  if (!isRecord(labels)) return undefined;
  const read = (value: unknown, pattern: RegExp) =>
    typeof value === 'string' && pattern.test(value) ? value : undefined;
  const id = read(labels.pipeline_job_id, JOB_ID);
  if (id === undefined) return undefined;
  return (
    jobName(read(labels.resource_container, PROJECT), read(labels.location, LOCATION), id) ?? id
  );
}
