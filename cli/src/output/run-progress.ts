/**
 * What changed between two versions of a run, as lines for `status --watch`:
 * status moves, step attempts starting, succeeding, failing for good, or
 * failing and being released for a retry, and a canary's moves
 * (canary-progress.ts).
 */
import { STEP_NAMES, type RunDocument, type StepState } from '@recdeploy/shared';
import { describeCanaryProgress } from './canary-progress.js';
import { elapsedMs, formatDuration } from './durations.js';
import { describeError } from './run-summary.js';

/** Lines describing `next` as a change from `previous` (everything worth saying when there is none). */
export function describeProgress(
  previous: RunDocument | undefined,
  next: RunDocument,
  now: Date,
): string[] {
  const lines: string[] = [];
  if (previous === undefined) {
    lines.push(`${next.runId} is ${next.status}${reason(next)}`);
  } else if (previous.status !== next.status) {
    lines.push(`${previous.status} → ${next.status}${reason(next)}`);
  }
  for (const name of STEP_NAMES) {
    const before = previous?.steps[name];
    const after = next.steps[name];
    lines.push(...stepChanges(name, before, after, now));
  }
  if (next.canary !== undefined) {
    lines.push(...describeCanaryProgress(previous?.canary, next.canary, now));
  }
  if (
    next.serving?.url !== undefined &&
    next.status === 'live' &&
    previous?.serving?.url !== next.serving.url
  ) {
    lines.push(`serving at ${next.serving.url} (revision ${next.serving.revision ?? '?'})`);
  }
  return lines;
}

function stepChanges(
  name: string,
  before: StepState | undefined,
  after: StepState,
  now: Date,
): string[] {
  const lines: string[] = [];
  const took = () => {
    const ms = elapsedMs(after.startedAt, after.endedAt, now);
    return ms === undefined ? '' : ` in ${formatDuration(ms)}`;
  };
  if (before === undefined) {
    // The first sight of a run: say only where a running step stands.
    if (after.status === 'in_progress') lines.push(`${name}: attempt ${after.attempts} running`);
    return lines;
  }
  if (after.attempts > before.attempts && after.status === 'in_progress') {
    lines.push(`${name}: attempt ${after.attempts} started`);
  }
  if (after.status === before.status) return lines;
  const error = after.error === undefined ? '' : `: ${describeError(after.error)}`;
  switch (after.status) {
    case 'succeeded':
      lines.push(`${name}: succeeded${took()} (${plural(after.attempts, 'attempt')})`);
      break;
    case 'failed':
      lines.push(`${name}: failed after ${plural(after.attempts, 'attempt')}${error}`);
      break;
    case 'skipped':
      lines.push(`${name}: skipped${error}`);
      break;
    case 'pending':
      // A passing failure released the step; the bus delivers the message again.
      if (before.status === 'in_progress') {
        lines.push(`${name}: attempt ${after.attempts} failed, will be retried${error}`);
      }
      break;
    case 'in_progress':
      break;
  }
  return lines;
}

function reason(run: RunDocument): string {
  return run.statusReason === undefined ? '' : `: ${run.statusReason}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
