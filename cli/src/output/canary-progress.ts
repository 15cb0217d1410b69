/**
 * What changed in a canary between two versions of its run, as lines for
 * `status --watch`: a step decided, its traffic serving, its first reading,
 * its verdict, an operator's request, the decision to promote or abort and
 * its end. A tick that only refreshes the numbers of a holding step says
 * nothing (it comes every few seconds); `status` shows the latest numbers.
 */
import type { CanaryState } from '@recdeploy/shared';
import { outcomeWords, phaseWords, stepLine } from './canary-steps.js';

/** Lines for `next` as a change from `previous` (undefined: the first sight of the canary). */
export function describeCanaryProgress(
  previous: CanaryState | undefined,
  next: CanaryState,
  now: Date,
): string[] {
  if (previous === undefined) {
    const current = next.steps[next.stepIndex];
    return [
      `canary: ${phaseWords(next)}, revision ${next.revision} against stable ${next.stableRevision}`,
      ...(current === undefined ? [] : [`canary: ${stepLine(next, next.stepIndex, current, now)}`]),
    ];
  }
  if (previous.seq === next.seq) return [];
  const lines: string[] = [];
  next.steps.forEach((step, index) => {
    const before = previous.steps[index];
    const changed =
      before === undefined ||
      before.trafficAt !== step.trafficAt ||
      before.verdict !== step.verdict ||
      (before.analysis === undefined && step.analysis !== undefined);
    if (changed) lines.push(`canary: ${stepLine(next, index, step, now)}`);
  });
  if (next.request !== undefined && previous.request === undefined) {
    lines.push(`canary: ${next.request.action} requested by ${next.request.by}`);
  }
  if (next.outcome !== undefined && previous.phase !== next.phase) {
    if (next.phase === 'promoting' || next.phase === 'aborting' || previous.outcome === undefined) {
      lines.push(`canary: ${outcomeWords(next, now)}`);
    } else {
      lines.push(`canary: ${phaseWords(next)}`);
    }
  }
  return lines;
}
