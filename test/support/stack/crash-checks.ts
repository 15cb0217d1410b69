/**
 * What a crash round waits for on the local stack's data directory (a run
 * paused at its point, a run converged, the bus settled, no run in flight),
 * what it checks of a crashed run once the stack is back, and how a failure
 * names the state a run was left in. Every function reads the data directory
 * afresh; nothing here holds state across a kill and restart.
 */
import type { RunDocument } from '@recdeploy/shared';
import type { Failpoint } from '../../../shared/failpoints.js';
import type { PushReceiver } from '../push-receiver.js';
import type { CrashJob, CrashResult, PauseMarkers } from './crash-schedule.js';
import {
  describeRun,
  effectProblems,
  notConvergedBecause,
  type LiveRunSamples,
  type RunUnderTest,
} from './run-convergence.js';
import { deliveryCounts, readRun, readRunsOf } from './stack-files.js';
import { groupMembers, sleep, stackOutputTail, type StackProcess } from './stack-process.js';

/** A run published in a round and paused at its job's point. */
export interface Placed {
  readonly job: CrashJob;
  readonly subject: RunUnderTest;
  statusAtKill?: string;
  stateAtKill?: string;
}

/** Statuses of a run the chain still moves. */
const IN_FLIGHT = new Set([
  'received',
  'registering',
  'registered',
  'deploying',
  'deployed',
  'verifying',
]);

/**
 * Waits until the run converged; returns Date.now() then, or undefined after
 * `until` or as soon as the run ended otherwise (failed, skipped: only an
 * operator moves it on from there).
 */
export async function converged(
  dataDir: string,
  finished: PushReceiver,
  subject: RunUnderTest,
  until: number,
): Promise<number | undefined> {
  for (;;) {
    if (notConvergedBecause(dataDir, subject, finished) === undefined) return Date.now();
    const status = readRun(dataDir, subject.run.runId)?.status;
    if (Date.now() > until || status === 'failed' || status === 'skipped') return undefined;
    await sleep(100);
  }
}

/**
 * Waits until no delivery of the functions is left in the bus (every handler
 * has answered 2xx); returns why not after `withinMs`.
 */
export async function settled(dataDir: string, withinMs: number): Promise<string | undefined> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const counts = deliveryCounts(dataDir);
    if (counts.pending === 0) return undefined;
    if (Date.now() > deadline) {
      return `${counts.pending} deliveries still pending ${withinMs / 1000} s after convergence`;
    }
    await sleep(100);
  }
}

/** Waits until no run of any endpoint is in flight; returns those still in flight at `until`. */
export async function nothingInFlight(
  dataDir: string,
  endpoints: readonly string[],
  until: number,
): Promise<RunDocument[]> {
  for (;;) {
    const moving = endpoints
      .flatMap((endpoint) => readRunsOf(dataDir, endpoint))
      .filter((r) => IN_FLIGHT.has(r.status));
    if (moving.length === 0 || Date.now() > until) return moving;
    await sleep(200);
  }
}

/** A failing run for a failure message: its problems, its state when killed and now, its predecessor's. */
export function failureText(
  dataDir: string,
  heading: string,
  subject: RunUnderTest,
  problems: readonly string[],
  atKill?: string,
): string {
  return [
    heading,
    ...problems.map((p) => `  - ${p}`),
    ...(atKill === undefined ? [] : ['  state when killed:', atKill]),
    '  state now:',
    describeRun(readRun(dataDir, subject.run.runId)),
    ...(subject.previous === undefined
      ? []
      : ['  previous run now:', describeRun(readRun(dataDir, subject.previous.runId), 3)]),
  ].join('\n');
}

/**
 * Resolves once the run paused at `point` (its marker names a process of the
 * stack's group). Fails, naming the point and the run's state, when the run
 * ended or stalled (`withinMs`) without reaching it.
 */
/** How long after a run ended its pause marker may still appear (a point after its last write). */
const ENDED_GRACE_MS = 2_000;

export async function reachPoint(
  dataDir: string,
  markers: PauseMarkers,
  current: StackProcess,
  point: Failpoint,
  subject: RunUnderTest,
  withinMs: number,
): Promise<void> {
  const deadline = Date.now() + withinMs;
  // A run may end a moment before it reaches a point that follows its last
  // write (verify.after-complete comes after the run is recorded live), so an
  // ended run fails only once the marker is still missing a grace later.
  let endedSince: number | undefined;
  for (;;) {
    const pid = markers.pausedPid(point);
    if (pid !== undefined) {
      if (!groupMembers(current.pid).includes(pid)) {
        throw new Error(
          `${point}: paused by pid ${pid}, which is not a process of the stack's group ${current.pid}`,
        );
      }
      return;
    }
    const doc = readRun(dataDir, subject.run.runId);
    const ended =
      doc !== undefined &&
      ['live', 'failed', 'skipped', 'replaced', 'rolled_back'].includes(doc.status);
    if (ended) endedSince ??= Date.now();
    const endedForGood = endedSince !== undefined && Date.now() - endedSince > ENDED_GRACE_MS;
    if (endedForGood || Date.now() > deadline || current.exitCode() !== undefined) {
      throw new Error(
        failureText(
          dataDir,
          `${point}: run ${subject.run.runId} never paused there (${ended ? `it ended ${doc.status}` : 'timed out'})`,
          subject,
          [],
        ) + `\n\nstack log:\n${stackOutputTail(current)}`,
      );
    }
    await sleep(25);
  }
}

/**
 * Checks a crashed run once the stack is back: converged by the deadline (`at`;
 * if not, watched `watchLateRunMs` longer to tell "late" from "never"), one of
 * each effect, never two live runs while it recovered (`seen`). Returns its
 * entry in the matrix and, when it has problems, its failure text.
 */
export async function checkCrashedRun(
  dataDir: string,
  finished: PushReceiver,
  p: Placed,
  at: number | undefined,
  restart: { readonly restartAt: number; readonly upAt: number; readonly seen: LiveRunSamples },
  timing: { readonly convergeWithinMs: number; readonly watchLateRunMs: number },
): Promise<{ result: CrashResult; failure: string | undefined }> {
  const { restartAt, upAt, seen } = restart;
  const problems: string[] = [];
  let seconds = at === undefined ? undefined : (at - restartAt) / 1000;
  if (at === undefined) {
    const why = notConvergedBecause(dataDir, p.subject, finished);
    const late = await converged(dataDir, finished, p.subject, Date.now() + timing.watchLateRunMs);
    if (late !== undefined) seconds = (late - restartAt) / 1000;
    problems.push(
      late === undefined
        ? `not converged ${((Date.now() - restartAt) / 1000).toFixed(1)} s after the restart: ${notConvergedBecause(dataDir, p.subject, finished)}`
        : `not converged within ${timing.convergeWithinMs / 1000} s of the restart (${why}); it did after ${seconds?.toFixed(1)} s`,
    );
  }
  problems.push(...effectProblems(dataDir, p.subject));
  if (seen.maxLive > 1) {
    problems.push(
      `${seen.maxLive} runs live at once while the stack recovered (${seen.overlaps.join('; ')})`,
    );
  }
  const result: CrashResult = {
    ...p.job,
    runId: p.subject.run.runId,
    ...(seconds === undefined ? {} : { convergedS: seconds }),
    upS: (upAt - restartAt) / 1000,
    statusAtKill: p.statusAtKill ?? '?',
    noLiveRunMs: seen.noLiveRunMs,
    problems,
  };
  const failure =
    problems.length === 0
      ? undefined
      : failureText(
          dataDir,
          `crash point ${p.job.point} (trial ${p.job.trial}), run ${p.subject.run.runId} (killed while ${p.statusAtKill}):`,
          p.subject,
          problems,
          p.stateAtKill,
        );
  return { result, failure };
}
