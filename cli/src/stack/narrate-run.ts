/**
 * Tells a run's phases as they happen (the sample run at start): register,
 * index, deploy, verify and canary, each one line with its duration, a
 * spinner while it lasts on a terminal. Changes are read from the run's
 * history, so none is missed between two looks at the store.
 */
import type { HistoryEntry, RunDocument, RunStore } from '@recdeploy/shared';
import type { Narrator } from '../output/phase-narrator.js';
import {
  describeIndex,
  indexFacts,
  phaseActivity,
  phaseOf,
  phaseResult,
  phaseSeconds,
  statusChanges,
  type RunPhase,
} from './run-phases.js';
import { unlessStopped } from './stop-signals.js';

const ENDED = new Set(['live', 'failed', 'skipped', 'rolled_back', 'replaced']);
const POLL_MS = 100;

/** Resolves with the run once it has ended; rejects with the stop reason when `signal` aborts. */
export async function narrateRun(
  store: RunStore,
  runId: string,
  narrator: Narrator,
  signal?: AbortSignal,
): Promise<RunDocument> {
  let seen = 0;
  let current: { phase: RunPhase; entered: HistoryEntry } | undefined;
  for (;;) {
    signal?.throwIfAborted();
    const run = await unlessStopped(store.getRun(runId), signal);
    if (run !== undefined) {
      const changes = statusChanges(run);
      for (const change of changes.slice(seen)) current = tell(change, current, run, narrator);
      seen = changes.length;
      if (ENDED.has(run.status)) {
        narrator.close();
        return run;
      }
    }
    await unlessStopped(new Promise((resolve) => setTimeout(resolve, POLL_MS)), signal);
  }
}

/** One status change: ends the phase it leaves, begins the one it enters. */
function tell(
  change: HistoryEntry,
  current: { phase: RunPhase; entered: HistoryEntry } | undefined,
  run: RunDocument,
  narrator: Narrator,
): { phase: RunPhase; entered: HistoryEntry } | undefined {
  const next = phaseOf(change.to);
  if (current !== undefined && next === current.phase) return current;
  if (current !== undefined) {
    const seconds = phaseSeconds(current.entered, change);
    const timed = seconds === undefined ? {} : { seconds };
    if (ENDED.has(change.to) && change.to !== 'live') {
      narrator.end(
        'failed',
        `${change.to}: ${change.reason ?? run.statusReason ?? 'no reason recorded'}`,
        timed,
      );
      return undefined;
    }
    if (current.phase === 'deploy') tellIndex(run, narrator);
    const verifiedIntoCanary = current.phase === 'verify' && change.to === 'canary';
    narrator.end(
      'ok',
      verifiedIntoCanary
        ? `${phaseResult('verify', run)}; canary rollout begins`
        : phaseResult(current.phase, run),
      { ...timed, ...(current.phase === 'deploy' ? deployWithoutIndex(run, seconds) : {}) },
    );
  } else if (ENDED.has(change.to)) {
    // Ended without a phase we saw begin (a duplicate refused at once, a superseded run).
    narrator.line(
      `${change.to === 'live' ? '✔' : '✖'} ${run.runId}: ${change.to}${change.reason ? `: ${change.reason}` : ''}`,
    );
  }
  if (next === undefined) return undefined;
  narrator.begin(next, phaseActivity(next, run));
  return { phase: next, entered: change };
}

/** The index line, inside the deploy phase: what the deploy built or reused. */
function tellIndex(run: RunDocument, narrator: Narrator): void {
  const facts = indexFacts(run);
  if (facts === undefined) return;
  narrator.end('ok', describeIndex(facts), {
    phase: 'index',
    ...(facts.built ? { seconds: facts.seconds } : {}),
  });
}

/** Deploy's own time: the step's time less the index build it contained. */
function deployWithoutIndex(run: RunDocument, seconds: number | undefined): { seconds?: number } {
  const facts = indexFacts(run);
  if (seconds === undefined || facts === undefined || !facts.built) return {};
  return { seconds: Math.max(0, seconds - facts.seconds) };
}
