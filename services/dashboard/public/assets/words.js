/**
 * Statuses and error codes in plain words, and the tone (colour) each status
 * is shown in. Error codes are shared/errors.ts's; the stored message follows
 * the words wherever an error is shown.
 */

export const STEPS = ['register', 'deploy', 'verify'];
export const TERMINAL = ['failed', 'skipped', 'rolled_back', 'replaced'];
export const STATUS_TEXT = {
  received: 'received, waiting to be registered',
  registering: 'registering the model',
  registered: 'registered, waiting to be deployed',
  deploying: 'deploying a revision with no traffic',
  deployed: 'deployed, waiting to be verified',
  verifying: 'verifying the new revision',
  canary: 'canary: verified, serving a share of live traffic, judged against the stable revision',
  live: 'live: verified and serving traffic',
  failed: 'failed',
  skipped: 'skipped',
  rolled_back: 'rolled back: traffic moved to another revision',
  replaced: 'replaced: a newer run took its traffic',
};
export const ERROR_TEXT = {
  'VERIFY.FAILED': 'The new revision failed verification, so traffic was not moved',
  'RUN.SUPERSEDED': 'A newer run of this model endpoint took over',
  'RUN.NOT_BLESSED': 'The model was not blessed by its evaluation, so it is not deployed',
  'ROUTING.NO_RUNTIME': 'No serving runtime can serve this model artifact',
  'ARTIFACT.NOT_FOUND': 'The model files were not found',
  'ARTIFACT.FORBIDDEN': 'The model files could not be read',
  'ARTIFACT.TOO_LARGE': 'A model file is too large',
  'REGISTRY.REJECTED': 'The model registry refused the model',
  'PLATFORM.REJECTED': 'The serving platform refused the revision',
  'PLATFORM.REVISION_FAILED': 'The new revision did not start',
  'PLATFORM.CONFLICT': 'The serving platform reported a conflicting change',
  'PLATFORM.NOT_FOUND': 'The serving service or revision was not found',
  'INDEX.BUILDING': 'The ANN index is being built; the deployment continues afterwards',
  'INDEX.INVALID': 'The ANN index could not be built or read',
  'INDEX.NOT_FOUND': 'The ANN index was not found',
  'INDEX.MISMATCH': 'The ANN index does not match the model',
  'INDEX.RECALL_TOO_LOW': 'The ANN index finds too few of the true neighbours',
  'BUNDLE.INVALID': 'The model bundle is invalid',
  'PIPELINE.NOT_FOUND': 'The training pipeline job was not found',
  'PIPELINE.NOT_FINISHED': 'The training pipeline job has not finished yet',
  'PIPELINE.INVALID': 'The training pipeline job left nothing usable',
  'DEPENDENCY.UNAVAILABLE': 'A cloud service was unavailable',
  'STORE.UNAVAILABLE': 'The run store was unavailable',
  'RUN.LEASE_LOST': 'Another attempt took the step over',
  'RUN.STEP_BUSY': 'Another deployment of the same service was in progress',
  'CONFIG.INVALID': 'A function is misconfigured',
  'EVENT.INVALID': 'The event is invalid',
  INTERNAL: 'An unexpected internal error',
};

export function toneOf(status) {
  if (status === 'live') return 'tone-good';
  if (status === 'failed') return 'tone-bad';
  if (status === 'skipped' || status === 'rolled_back') return 'tone-warn';
  // Replaced is how a good run ends when a newer one takes over: no warning.
  if (status === 'replaced') return '';
  // Its own colour: live traffic is at stake, unlike the steps before it.
  if (status === 'canary') return 'tone-canary';
  return 'tone-progress';
}
export function errorText(error) {
  const plain = ERROR_TEXT[error.code];
  return plain ? `${plain} (${error.code}): ${error.message}` : `${error.code}: ${error.message}`;
}

export function stepTone(status) {
  if (status === 'succeeded') return 'tone-good';
  if (status === 'failed') return 'tone-bad';
  if (status === 'skipped') return 'tone-warn';
  if (status === 'in_progress') return 'tone-progress';
  return '';
}

/** Why a run ended, in words: the failing step's error code, explained. */
export function problemHeadline(run) {
  if (run.status === 'rolled_back' && run.canary && run.canary.phase === 'aborted')
    return 'Canary aborted: all traffic went back to the stable revision';
  if (run.status === 'rolled_back') return 'Rolled back: traffic was moved to another revision';
  if (run.status === 'replaced')
    return `Replaced by run ${run.replacedBy || '?'}: a newer run took its traffic`;
  const failedStep = STEPS.find((name) => {
    const step = run.steps[name];
    return step && step.error && (step.status === 'failed' || step.status === 'skipped');
  });
  const error = failedStep ? run.steps[failedStep].error : undefined;
  const verb = run.status === 'failed' ? 'Failed' : 'Skipped';
  const where = failedStep ? ` at ${failedStep}` : '';
  return error ? `${verb}${where}: ${ERROR_TEXT[error.code] || error.code}` : verb;
}
