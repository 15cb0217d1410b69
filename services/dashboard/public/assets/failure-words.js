/**
 * Why a step failed, in words that name the real cause: an error code of
 * shared/errors.ts becomes a heading, refined by what the stored error and
 * the run's checks say where one code covers several causes (ARTIFACT.FORBIDDEN
 * is both "outside the allowed artifact roots", a policy refusal, and "the
 * storage refused to read it"; VERIFY.FAILED names the checks that failed).
 * A code not listed here gets a neutral heading with the code itself, never
 * a guess.
 */

const POLICY = 'Refused by policy';

/** One heading per code; the ones refined below are their fallback. */
const CODE_HEADING = {
  'VERIFY.FAILED': 'The new revision failed verification, so traffic was not moved',
  'RUN.SUPERSEDED': 'A newer run of this model endpoint took over',
  'RUN.NOT_BLESSED': `${POLICY}: the model was not blessed by its evaluation, so it is not deployed`,
  'ROLLOUT.OUTSIDE_POLICY': `${POLICY}: the rollout the run asks for is outside the operator's rollout policy`,
  'DEPLOY.OUTSIDE_POLICY': `${POLICY}: the serving settings the run asks for (deployment_config) are outside the operator's deployment policy`,
  'RUN.NOT_DEPLOYABLE': 'The run cannot be deployed in its state',
  'RUN.TOO_LARGE': 'The run document would grow too large to store',
  'ROUTING.NO_RUNTIME': 'No serving runtime can serve this model artifact',
  'ARTIFACT.NOT_FOUND': 'The model files were not found',
  'ARTIFACT.FORBIDDEN': 'The model files could not be read: access was refused',
  'ARTIFACT.TOO_LARGE': 'A model file is too large',
  'INPUT.INVALID': 'The model or its input is invalid',
  'REGISTRY.REJECTED': 'The model registry refused the model',
  'PLATFORM.REJECTED': 'The serving platform refused the revision',
  'PLATFORM.REVISION_FAILED': 'The new revision did not start',
  'PLATFORM.CONFLICT': 'The serving platform reported a conflicting change',
  'PLATFORM.NOT_FOUND': 'The serving service or revision was not found',
  'INDEX.BUILDING': 'The ANN index is being built; the deployment continues afterwards',
  'INDEX.INVALID': 'The ANN index could not be built or read',
  'INDEX.NOT_FOUND': 'The ANN index was not found',
  'INDEX.MISMATCH': 'The ANN index does not match the model',
  'INDEX.RECALL_TOO_LOW': "The ANN index's recall is below the floor",
  'BUNDLE.INVALID': 'The model bundle is invalid',
  'PIPELINE.NOT_FOUND': 'The training pipeline job was not found',
  'PIPELINE.NOT_FINISHED': 'The training pipeline job has not finished yet',
  'PIPELINE.INVALID': 'The training pipeline job left nothing usable',
  'DEPENDENCY.UNAVAILABLE': 'A cloud service was unavailable',
  'STORE.UNAVAILABLE': 'The run store was unavailable',
  'STORE.CONFLICT': 'The run store refused a conflicting write',
  'RUN.LEASE_LOST': 'Another attempt took the step over',
  'RUN.STEP_BUSY': 'Another deployment of the same service was in progress',
  'BUS.PUBLISH_FAILED': 'The next step could not be started (publishing failed)',
  'CONFIG.INVALID': 'A function is misconfigured',
  'EVENT.INVALID': 'The event is invalid',
  INTERNAL: 'An unexpected internal error',
};

/** ARTIFACT.FORBIDDEN's causes, by the stores' messages (shared/adapters/*-artifact-store.ts). */
const FORBIDDEN_CAUSES = [
  [
    /(is|leads) outside the (configured|allowed) artifact roots/,
    `${POLICY}: the model files are outside the allowed artifact roots (ARTIFACT_ROOTS)`,
  ],
  [/is an artifact root;/, `${POLICY}: the artifact URI is an artifact root itself`],
  [
    /^(artifact URI|subdirectory)\b/,
    `${POLICY}: the artifact URI is not one the artifact store accepts`,
  ],
];

/** A failed verification check, by its name (shared/verification/check-names.ts). */
function checkFailure(check) {
  const detail = check.detail || '';
  switch (check.name) {
    case 'model_available':
      return /failed to load/.test(detail)
        ? 'the model failed to load'
        : 'the revision did not become ready in time';
    case 'metadata_inputs':
      return "the model's inputs are not the expected ones";
    case 'smoke_predictions':
      return 'test predictions failed';
    case 'latency':
      return 'latency above its limit';
    case 'ann_recall':
      return 'ANN recall below its floor';
    case 'replay':
      if (/^recall too low/.test(detail))
        return 'ANN recall on replayed live queries below its floor';
      if (/^overlap with live too low/.test(detail)) {
        return 'too little overlap with the live revision on replayed live queries';
      }
      return 'replayed live queries failed';
    default:
      return `check ${check.name} failed`;
  }
}

/**
 * The heading of a step error: what went wrong, in words. `run` (optional)
 * lends its verification checks to VERIFY.FAILED.
 */
export function failureHeading(error, run) {
  const message = error.message || '';
  if (error.code === 'ARTIFACT.FORBIDDEN') {
    const cause = FORBIDDEN_CAUSES.find(([pattern]) => pattern.test(message));
    if (cause) return cause[1];
  }
  if (error.code === 'VERIFY.FAILED') {
    const failed = ((run && run.verification && run.verification.checks) || []).filter(
      (check) => !check.passed && check.skipped !== true,
    );
    if (failed.length > 0) {
      return `The new revision failed verification (${failed.map(checkFailure).join('; ')}), so traffic was not moved`;
    }
  }
  if (error.code === 'DEPENDENCY.UNAVAILABLE' && /timed? ?out|deadline/i.test(message)) {
    return 'A cloud service did not answer in time';
  }
  return CODE_HEADING[error.code] || `Stopped by error ${error.code}`;
}

/** The heading, the code, then the stored message: how a step error reads in full. */
export function errorText(error, run) {
  return `${failureHeading(error, run)} (${error.code}): ${error.message}`;
}
