/**
 * The Pusher of a Vertex AI PipelineJob: which task pushed (a configured one,
 * else the single task with a pushed tfx.PushedModel) and where to. The
 * destination must be a gs:// or file:// directory whose path passes
 * object-path's segment checks, before anything reads the pushed model.
 */
import { PermanentError } from '../../errors.js';
import { fileUriPathProblem, readGsUri } from '../../domain/object-path.js';
import type { PipelineTaskInput, ProtoStruct } from './pipeline-job-input.js';
import { numberField, stringField } from './pipeline-proto-values.js';

/** A task state that means the task never ran (its condition was false). */
const TASK_NOT_TRIGGERED = new Set<string | number>(['NOT_TRIGGERED', 9]);
const PUSHED_MODEL = 'tfx.PushedModel';

export type PushResult =
  | { readonly kind: 'pushed'; readonly destination: string; readonly version?: string }
  | { readonly kind: 'not_pushed'; readonly reason: string };

interface PusherCandidate {
  readonly task: PipelineTaskInput;
  readonly name: string;
  readonly metadata: ProtoStruct | undefined;
}

export function findPush(
  pipelineJob: string,
  tasks: readonly PipelineTaskInput[],
  configured: string | undefined,
): PushResult {
  if (configured !== undefined) {
    const task = tasks.find((t) => t.taskName === configured);
    if (!task) {
      return notPushed(
        `pipeline job ${pipelineJob} has no task named ${configured} (the configured Pusher)`,
      );
    }
    return readPusher(pipelineJob, { task, name: configured, metadata: pushedModelOf(task) });
  }
  const candidates = tasks.flatMap((task) => {
    const metadata = pushedModelOf(task);
    return metadata === undefined && !isNamedPusherNotTriggered(task)
      ? []
      : [{ task, name: task.taskName ?? '', metadata }];
  });
  if (candidates.length === 0) {
    return notPushed(
      `pipeline job ${pipelineJob} has no Pusher task (no task outputs a ${PUSHED_MODEL} pushed_model)`,
    );
  }
  const results = candidates.map((candidate) => readPusher(pipelineJob, candidate));
  const pushed = results.filter((r) => r.kind === 'pushed');
  if (pushed.length > 1) {
    const names = candidates.filter((_, i) => results[i]?.kind === 'pushed').map((c) => c.name);
    throw invalid(
      pipelineJob,
      `pipeline job ${pipelineJob} has ${pushed.length} Pushers that pushed (${names.join(', ')}): ` +
        'configure which one to deploy (pusherTask)',
    );
  }
  return (
    pushed[0] ?? notPushed(results.map((r) => (r.kind === 'not_pushed' ? r.reason : '')).join('; '))
  );
}

/** A task named Pusher that never ran has no outputs, but is still the reason nothing was pushed. */
function isNamedPusherNotTriggered(task: PipelineTaskInput): boolean {
  return task.taskName === 'Pusher' && TASK_NOT_TRIGGERED.has(task.state ?? '');
}

function pushedModelOf(task: PipelineTaskInput): ProtoStruct | undefined {
  const artifacts = task.outputs?.pushed_model?.artifacts ?? [];
  const artifact = artifacts.find((a) => a.schemaTitle === PUSHED_MODEL);
  return artifact === undefined ? undefined : (artifact.metadata ?? {});
}

function readPusher(pipelineJob: string, candidate: PusherCandidate): PushResult {
  const { task, name, metadata } = candidate;
  if (TASK_NOT_TRIGGERED.has(task.state ?? '')) {
    return notPushed(
      `Pusher task ${name} was NOT_TRIGGERED (its condition, e.g. blessing, was not met)`,
    );
  }
  if (metadata === undefined) {
    return notPushed(`task ${name} has no ${PUSHED_MODEL} pushed_model output`);
  }
  const pushed = numberField(metadata, 'pushed');
  if (pushed !== 1) {
    return notPushed(`Pusher task ${name} did not push (pushed = ${pushed ?? 'absent'})`);
  }
  const destination = stringField(metadata, 'pushed_destination');
  if (destination === undefined || !/^(gs|file):\/\//.test(destination)) {
    throw invalid(
      pipelineJob,
      `Pusher task ${name} of pipeline job ${pipelineJob} pushed to ` +
        `${destination === undefined ? 'no pushed_destination' : JSON.stringify(destination)}, ` +
        'not a gs:// or file:// directory (a Vertex endpoint Pusher cannot be deployed from)',
    );
  }
  // Checked before anything reads the pushed model's metrics from it.
  const unsafe = destinationProblem(destination);
  if (unsafe !== undefined) {
    throw invalid(
      pipelineJob,
      `Pusher task ${name} of pipeline job ${pipelineJob} pushed to ${JSON.stringify(destination)}, which ${unsafe}`,
    );
  }
  const version = stringField(metadata, 'pushed_version');
  return { kind: 'pushed', destination, ...(version !== undefined && { version }) };
}

/** Why a gs:// or file:// destination is unsafe (object-path's segment rules), or undefined. */
function destinationProblem(destination: string): string | undefined {
  if (destination.startsWith('file://')) return fileUriPathProblem(destination);
  const read = readGsUri(destination);
  return 'problem' in read ? read.problem : undefined;
}

function notPushed(reason: string): PushResult {
  return { kind: 'not_pushed', reason };
}

/** `PIPELINE.INVALID`: the job's outputs cannot be read as one deployable push. */
export function invalid(pipelineJob: string, message: string): PermanentError {
  return new PermanentError('PIPELINE.INVALID', message, { metadata: { pipelineJob } });
}
