/**
 * What `recdeploy publish` says instead of "published" when the message's
 * run already exists: the register step keeps a run's first message and
 * drops the others, so publishing would change nothing. It says where the run
 * stands and the command that does what the user most likely wants.
 */
import type { TrainingCompletedV1 } from '@recdeploy/events';
import {
  STEP_NAMES,
  trafficPercent,
  type RunDocument,
  type ServingRecord,
} from '@recdeploy/shared';

/** The lines of the refusal: what happened to the run, then what to do. */
export function existingRunGuidance(
  run: RunDocument,
  message: TrainingCompletedV1,
  record: ServingRecord | undefined,
): string[] {
  const reason = run.statusReason?.split('\n', 1)[0];
  return [
    `run ${run.runId} already exists, so the stack would drop this message (the register step keeps a run's first message): not published`,
    `  status ${run.status}${reason === undefined || reason === '' ? '' : `: ${reason}`}`,
    ...nextSteps(run, message.artifact_uri, record),
    `  pass --force to publish it anyway, as a duplicate delivery of run ${run.runId}`,
  ];
}

function nextSteps(
  run: RunDocument,
  artifactUri: string,
  record: ServingRecord | undefined,
): string[] {
  switch (run.status) {
    case 'failed':
      return retrySteps(run, artifactUri);
    case 'skipped':
    case 'replaced':
    case 'rolled_back':
      if (run.registry === undefined) {
        return ['  it was never registered, so it cannot be deployed by hand'];
      }
      return [
        `  to serve it: recdeploy deploy ${run.runId}${run.isBlessed ? '' : ' --allow-unblessed'}`,
      ];
    case 'live':
      return [`  it is live${share(run, record)}: nothing to do`];
    default:
      return [`  it is in progress: follow it with recdeploy status ${run.runId} --watch`];
  }
}

/** A failed run is retried; a corrected artifact only while nothing was registered from the old one. */
function retrySteps(run: RunDocument, artifactUri: string): string[] {
  const failedIn = STEP_NAMES.find((step) => run.steps[step].status === 'failed') ?? 'register';
  if (artifactUri === run.artifactUri) return [`  to retry it: recdeploy retry ${run.runId}`];
  if (failedIn === 'register') {
    return [
      `  to retry it with this message's artifact: recdeploy retry ${run.runId} --artifact-uri ${artifactUri}`,
    ];
  }
  return [
    `  its artifact ${run.artifactUri} was registered before its ${failedIn} step failed, so it cannot change: publish ${artifactUri} as a new training run (another training_run_id)`,
    `  to retry it with its registered artifact: recdeploy retry ${run.runId}`,
  ];
}

/** " (revision r, 100% of service s)" from the serving record, when there is one. */
function share(run: RunDocument, record: ServingRecord | undefined): string {
  const revision = run.serving?.revision;
  if (record === undefined || revision === undefined) return '';
  return ` (revision ${revision}, ${trafficPercent(record, revision)}% of service ${record.service})`;
}
