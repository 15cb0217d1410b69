/**
 * Statuses in plain words, the tone (colour) each status is shown in, and why
 * a run ended. Error codes in words: failure-words.js.
 */
import { failureHeading } from './failure-words.js';

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
  return error ? `${verb}${where}: ${failureHeading(error, run)}` : verb;
}
