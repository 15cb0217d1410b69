/**
 * The crash-point matrix's plan and its report: which failpoints are hit in
 * which round, the pause markers that arm them, and the printed matrix of
 * convergence times.
 *
 * Markers (shared/failpoints.ts): with RECDEPLOY_PAUSE_AT naming a point, the
 * first process to reach it creates `{RECDEPLOY_PAUSE_DIR}/{point}` and waits
 * for ever; while the file exists the point is passed through. So a stack
 * started with every point named and every marker present is inert, and
 * removing one marker arms that point for exactly one pause.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Failpoint } from '../../../shared/failpoints.js';

export interface CrashJob {
  readonly point: Failpoint;
  /** 1-based: the how-many-th crash at this point. */
  readonly trial: number;
}

/**
 * Splits `trials` crashes at each point into rounds of at most `lanes` jobs
 * with distinct points (one run per lane and round; one kill per round).
 * Jobs are listed point by point and round r takes every R-th job from r, so
 * a round's points lie far apart along the chain (less contention at one
 * step) and are distinct as long as R ≥ trials, which lanes ≤ points ensures.
 */
export function crashRounds(
  points: readonly Failpoint[],
  trials: number,
  lanes: number,
): CrashJob[][] {
  if (lanes < 1 || lanes > points.length) {
    throw new RangeError(`lanes must be 1..${points.length}, got ${lanes}`);
  }
  const jobs = points.flatMap((point) =>
    Array.from({ length: trials }, (_, i) => ({ point, trial: i + 1 })),
  );
  const roundCount = Math.ceil(jobs.length / lanes);
  const rounds: CrashJob[][] = [];
  for (let r = 0; r < roundCount; r++) {
    const round: CrashJob[] = [];
    for (let j = r; j < jobs.length; j += roundCount) round.push(jobs[j]!);
    const distinct = new Set(round.map((job) => job.point));
    if (distinct.size !== round.length) throw new Error(`round ${r} repeats a point`);
    rounds.push(round);
  }
  return rounds;
}

/** How a round is named: its jobs as `point#trial`. */
export function roundLabel(round: readonly CrashJob[]): string {
  return round.map((job) => `${job.point}#${job.trial}`).join(', ');
}

export class PauseMarkers {
  constructor(readonly dir: string) {}

  file(point: Failpoint): string {
    return path.join(this.dir, point);
  }

  /** Creates every marker: every point is passed through. */
  disarmAll(points: readonly Failpoint[]): void {
    fs.mkdirSync(this.dir, { recursive: true });
    for (const point of points) fs.writeFileSync(this.file(point), 'disarmed by the test\n');
  }

  /** Removes the point's marker: the next process to reach it pauses there (once). */
  arm(point: Failpoint): void {
    fs.rmSync(this.file(point), { force: true });
  }

  /** Whether the point has been reached (or was never armed). */
  present(point: Failpoint): boolean {
    return fs.existsSync(this.file(point));
  }

  /** The pid a paused process wrote, or undefined for a disarmed or absent marker. */
  pausedPid(point: Failpoint): number | undefined {
    try {
      const text = fs.readFileSync(this.file(point), 'utf8').trim();
      return /^\d+$/.test(text) ? Number(text) : undefined;
    } catch {
      return undefined;
    }
  }
}

export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One crash's outcome for the matrix. */
export interface CrashResult extends CrashJob {
  readonly runId: string;
  /** Seconds from the restart (spawn) to the run's final state; undefined if it never got there. */
  readonly convergedS?: number;
  /** Seconds from the restart until the stack was up. */
  readonly upS?: number;
  /** Status of the run when the stack was killed. */
  readonly statusAtKill: string;
  /** About how long (ms) no run of the endpoint was live while its router served one (sampled). */
  readonly noLiveRunMs?: number;
  /** Problems found (not converged in time, invariants broken); empty when it passed. */
  readonly problems: readonly string[];
}

/** The matrix: one row per point, one column per trial (seconds restart → converged), median. */
export function formatMatrix(
  points: readonly Failpoint[],
  trials: number,
  results: readonly CrashResult[],
  baseline: readonly { runId: string; seconds: number }[],
): string {
  const width = Math.max(...points.map((p) => p.length), 'point'.length);
  const cell = (text: string) => text.padStart(9);
  const lines: string[] = [];
  const header = [
    'point'.padEnd(width),
    ...Array.from({ length: trials }, (_, i) => cell(`trial ${i + 1}`)),
    cell('median'),
    '  status at kill',
  ];
  lines.push(header.join(' '));
  for (const point of points) {
    const row = results.filter((r) => r.point === point).sort((a, b) => a.trial - b.trial);
    const cells = Array.from({ length: trials }, (_, i) => {
      const result = row.find((r) => r.trial === i + 1);
      if (result === undefined) return cell('-');
      const seconds = result.convergedS === undefined ? 'never' : result.convergedS.toFixed(1);
      return cell(`${seconds}${result.problems.length > 0 ? '!' : ''}`);
    });
    const converged = row.flatMap((r) => (r.convergedS === undefined ? [] : [r.convergedS]));
    const mid = median(converged);
    const atKill = [...new Set(row.map((r) => r.statusAtKill))].join('/');
    lines.push(
      [
        point.padEnd(width),
        ...cells,
        cell(mid === undefined ? '-' : mid.toFixed(1)),
        `  ${atKill}`,
      ].join(' '),
    );
  }
  const all = results.flatMap((r) => (r.convergedS === undefined ? [] : [r.convergedS]));
  const ups = results.flatMap((r) => (r.upS === undefined ? [] : [r.upS]));
  lines.push('');
  lines.push(
    `seconds from the restart (spawn of recdeploy start) until the run was live, the run it replaced was replaced, and deployment-finished had announced it; "!" marks a trial with problems`,
  );
  lines.push(
    `all crashes: median ${median(all)?.toFixed(1) ?? '-'} s, max ${all.length > 0 ? Math.max(...all).toFixed(1) : '-'} s; the stack itself was up after a median ${median(ups)?.toFixed(1) ?? '-'} s`,
  );
  const gaps = results.filter((r) => (r.noLiveRunMs ?? 0) > 0);
  if (gaps.length > 0) {
    lines.push(
      `no run live while the router served (sampled every 50 ms): ${gaps.map((r) => `${r.point}#${r.trial} ~${r.noLiveRunMs} ms`).join(', ')}`,
    );
  }
  if (baseline.length > 0) {
    const seconds = baseline.map((b) => b.seconds);
    lines.push(
      `baseline without a crash (publish → live and announced): ${seconds.map((s) => s.toFixed(1)).join(', ')} s (median ${median(seconds)?.toFixed(1) ?? '-'} s)`,
    );
  }
  return lines.join('\n');
}
