/**
 * The one line the local stack prints when a run ends while it serves:
 *   run local-sample-sample-run-7: live in 14.2 s (register 1.1 s, deploy 6.0 s, verify 7.1 s; p99 12 ms); replaced local-sample-sample-run-6
 *   run local-sample-sample-run-8: failed at verify: <reason>
 */
import { STEP_NAMES, type RunDocument } from '@recdeploy/shared';
import { formatSeconds } from './phase-narrator.js';

/** Statuses that end a run (replaced is told inside the live line of the run that replaced it). */
export const END_STATUSES = ['live', 'failed', 'skipped', 'rolled_back'] as const;
export type EndStatus = (typeof END_STATUSES)[number];

export function isEndStatus(status: RunDocument['status']): status is EndStatus {
  return (END_STATUSES as readonly string[]).includes(status);
}

export function runEndLine(run: RunDocument, replaced: readonly string[] = []): string {
  const head = `run ${run.runId}`;
  const reason = run.statusReason ?? 'no reason recorded';
  switch (run.status) {
    case 'live': {
      const total = totalSeconds(run);
      const steps = stepTimes(run);
      const p99 = run.verification?.latencyP99Ms;
      const detail = [steps.join(', '), p99 === undefined ? '' : `p99 ${p99} ms`]
        .filter((part) => part !== '')
        .join('; ');
      const took = total === undefined ? '' : ` in ${formatSeconds(total)}`;
      const also = replaced.length === 0 ? '' : `; replaced ${replaced.join(', ')}`;
      return `${head}: live${took}${detail === '' ? '' : ` (${detail})`}${also}`;
    }
    case 'failed': {
      const step = STEP_NAMES.find((name) => run.steps[name].status === 'failed');
      return `${head}: failed${step === undefined ? '' : ` at ${step}`}: ${reason}`;
    }
    case 'rolled_back':
      return `${head}: rolled back: ${reason}`;
    default:
      return `${head}: ${run.status}: ${reason}`;
  }
}

/** From the run's first recorded change to its last. */
function totalSeconds(run: RunDocument): number | undefined {
  const first = run.history[0]?.at ?? run.createdAt;
  const last = run.history.at(-1)?.at ?? run.updatedAt;
  const ms = Date.parse(last) - Date.parse(first);
  return Number.isFinite(ms) && ms >= 0 ? ms / 1000 : undefined;
}

/** "register 1.1 s" for each step that has both ends recorded. */
function stepTimes(run: RunDocument): string[] {
  const times: string[] = [];
  for (const name of STEP_NAMES) {
    const step = run.steps[name];
    const ms = Date.parse(step.endedAt ?? '') - Date.parse(step.startedAt ?? '');
    if (Number.isFinite(ms) && ms >= 0) times.push(`${name} ${formatSeconds(ms / 1000)}`);
  }
  return times;
}
