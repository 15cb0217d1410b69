import type { RunStatus, StepName } from './run-document.js';

/**
 * The run state machine of DESIGN.md §4 as data and pure functions.
 *
 * ```
 * received → registering → registered → deploying → deployed → verifying → live
 *                                                      verifying → canary → live
 *   └─ any status before live ─→ failed | skipped            live ─→ replaced | rolled_back
 *                                                           canary ─→ rolled_back (aborted)
 * ```
 * `canary` is the optional stop of a progressive rollout (rollout-plan.ts):
 * verification passed and the revision serves a share of the traffic beside
 * the live (stable) run, step by step, until it is promoted or aborted.
 * failed, skipped, rolled_back and replaced are terminal for the chain: no
 * delivery moves them. Only two deliberate commands leave them: a change of
 * what the platform serves (serving-record.ts: a rolled_back or replaced run
 * whose revision serves again is live again) and an operator's retry or
 * on-demand deploy (operator-commands.ts).
 */

/** The linear chain a successful run walks through, in order. */
export const RUN_CHAIN = [
  'received',
  'registering',
  'registered',
  'deploying',
  'deployed',
  'verifying',
  'live',
] as const satisfies readonly RunStatus[];

/** Statuses a run never leaves. */
export const TERMINAL_STATUSES: readonly RunStatus[] = [
  'failed',
  'skipped',
  'rolled_back',
  'replaced',
];

/**
 * How far along the chain a status is. rolled_back and replaced rank after
 * live: such a run was live, so a late "go live" for it has already happened.
 * failed and skipped have no rank: they say nothing about how far a run got.
 */
const RANK: Readonly<Partial<Record<RunStatus, number>>> = {
  received: 0,
  registering: 1,
  registered: 2,
  deploying: 3,
  deployed: 4,
  verifying: 5,
  canary: 6,
  live: 7,
  rolled_back: 8,
  replaced: 8,
};

/** `legal`: apply it; `noop`: it already happened (a redelivery); `illegal`: refuse it. */
export type TransitionKind = 'legal' | 'noop' | 'illegal';

/** True for failed, skipped, rolled_back and replaced. */
export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** The chain position of a status, or undefined for failed/skipped. */
export function chainRank(status: RunStatus): number | undefined {
  return RANK[status];
}

/**
 * Classifies moving a run from `from` to `to`:
 * - legal: one step along the chain (verifying → live skips the optional
 *   canary); canary → rolled_back (an aborted canary); any status before live → failed or skipped
 *   (skipped covers "not blessed" and "superseded", which can be found out up
 *   to the moment traffic moves, so deployed/verifying may be skipped too);
 *   live → rolled_back or replaced.
 * - noop: `to` equals `from`, or `to` is on the chain and the run has already
 *   reached or passed it (a redelivered event); rolled_back and replaced count as past live.
 * - illegal: everything else (skipping chain steps, leaving failed/skipped,
 *   failing or skipping a run that went live).
 */
export function classifyTransition(from: RunStatus, to: RunStatus): TransitionKind {
  if (from === to) return 'noop';
  const fromRank = RANK[from];
  const toRank = RANK[to];
  const leavesLive = to === 'rolled_back' || to === 'replaced';
  if (fromRank !== undefined && toRank !== undefined && !leavesLive) {
    if (toRank <= fromRank) return 'noop';
    // The canary stop is optional: a verified run may go live at once.
    if (from === 'verifying' && to === 'live') return 'legal';
    return toRank === fromRank + 1 ? 'legal' : 'illegal';
  }
  // An aborted canary ends rolled back: its traffic went back to the stable run.
  if (from === 'canary' && to === 'rolled_back') return 'legal';
  if (isTerminal(from)) return 'illegal';
  if (from === 'live') return leavesLive ? 'legal' : 'illegal';
  // from is a pre-live chain status here.
  return to === 'failed' || to === 'skipped' ? 'legal' : 'illegal';
}

/** How a step maps onto run statuses. */
export interface StepStatuses {
  /** The run status in which the step may start (the previous step is done). */
  readonly ready: RunStatus;
  /** The run status while the step runs. */
  readonly running: RunStatus;
  /** The run status once the step succeeded. */
  readonly done: RunStatus;
}

/** register: registering→registered, deploy: deploying→deployed, verify: verifying→live. */
export const STEP_STATUSES: Readonly<Record<StepName, StepStatuses>> = {
  register: { ready: 'received', running: 'registering', done: 'registered' },
  deploy: { ready: 'registered', running: 'deploying', done: 'deployed' },
  verify: { ready: 'deployed', running: 'verifying', done: 'live' },
};

/** The step whose running or done status `status` is, if any. */
export function stepOfStatus(
  status: RunStatus,
): { readonly step: StepName; readonly phase: 'running' | 'done' } | undefined {
  for (const [step, statuses] of Object.entries(STEP_STATUSES) as [StepName, StepStatuses][]) {
    if (statuses.running === status) return { step, phase: 'running' };
    if (statuses.done === status) return { step, phase: 'done' };
  }
  return undefined;
}
