/**
 * The phases of one run as a person reads them, from what the run document
 * records: its status history (when each phase began and ended), the steps'
 * times, and the serving and verification results. The ANN index is built
 * inside the deploy step; the run document does not time it, but the index
 * does: its manifest (`{bundle}/ann/index/index.json`) says when it was built,
 * in how long, and with which ef, so a deploy that built it says so apart.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { wantedCanaryPercent, type HistoryEntry, type RunDocument } from '@recdeploy/shared';

export type RunPhase = 'register' | 'deploy' | 'verify' | 'canary';

/** The phase a status belongs to while the run is in it. */
export function phaseOf(status: RunDocument['status']): RunPhase | undefined {
  switch (status) {
    case 'received':
    case 'registering':
      return 'register';
    case 'deploying':
      return 'deploy';
    case 'verifying':
      return 'verify';
    case 'canary':
      return 'canary';
    default:
      return undefined;
  }
}

/** What the spinner says while the run is in a phase. */
export function phaseActivity(phase: RunPhase, run: RunDocument): string {
  switch (phase) {
    case 'register':
      return 'registering the model version';
    case 'deploy':
      return 'choosing the runtime, building the ANN index, starting the revision';
    case 'verify':
      return `health, smoke predictions, latency and recall on ${run.serving?.tagUrl ?? 'the new revision'}`;
    case 'canary':
      return `${run.canary === undefined ? 'a share' : `${wantedCanaryPercent(run.canary)}%`} of traffic, judged on live traffic against the stable revision`;
  }
}

/** What a phase achieved, once the run has moved past it. */
export function phaseResult(phase: RunPhase, run: RunDocument): string {
  switch (phase) {
    case 'register':
      return `${run.registry?.model ?? '?'} version ${run.registry?.version ?? '?'}`;
    case 'deploy':
      return `revision ${run.serving?.revision ?? '?'} with 0% traffic (${run.serving?.runtimeReason ?? run.serving?.runtime ?? '?'})`;
    case 'verify':
      return `${checksPassed(run)}; p50 ${run.verification?.latencyP50Ms ?? '?'} ms, p99 ${run.verification?.latencyP99Ms ?? '?'} ms`;
    case 'canary':
      return 'every step passed';
  }
}

/** "7 checks passed", or "6 checks passed, replay skipped" when a check could not run. */
function checksPassed(run: RunDocument): string {
  const checks = run.verification?.checks ?? [];
  const passed = checks.filter((check) => check.passed).length;
  const skipped = checks.filter((check) => check.skipped === true).map((check) => check.name);
  const counted = `${passed} ${passed === 1 ? 'check' : 'checks'} passed`;
  return skipped.length === 0 ? counted : `${counted}, ${skipped.join(', ')} skipped`;
}

/** Seconds a phase lasted, from the history entry that entered it to the one that left it. */
export function phaseSeconds(
  entered: HistoryEntry | undefined,
  left: HistoryEntry,
): number | undefined {
  if (entered === undefined) return undefined;
  const ms = Date.parse(left.at) - Date.parse(entered.at);
  return Number.isFinite(ms) && ms >= 0 ? ms / 1000 : undefined;
}

/** The status changes of a run's history, oldest first (entries that only note a reason are left out). */
export function statusChanges(run: RunDocument): HistoryEntry[] {
  return run.history.filter((entry) => entry.from !== entry.to);
}

/** The ANN index the deploy step used, as its manifest records it. */
export interface IndexFacts {
  /** Built by this deploy (after the step started) or an earlier one (reused). */
  readonly built: boolean;
  readonly ef: number;
  readonly seconds: number;
  readonly recall?: { readonly k: number; readonly recall: number };
}

/** Read from a file:// bundle; undefined for TF Serving runs, gs:// bundles or no index. */
export function indexFacts(run: RunDocument): IndexFacts | undefined {
  if (run.serving?.mode !== 'ann' || !run.artifactUri.startsWith('file:')) return undefined;
  try {
    const file = path.join(fileURLToPath(run.artifactUri), 'ann', 'index', 'index.json');
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      built_at?: unknown;
      build_seconds?: unknown;
      ef?: unknown;
      k?: unknown;
      recall?: { recall?: unknown };
    };
    if (typeof manifest.ef !== 'number' || typeof manifest.build_seconds !== 'number')
      return undefined;
    const startedAt = Date.parse(run.steps.deploy.startedAt ?? '');
    const builtAt = typeof manifest.built_at === 'string' ? Date.parse(manifest.built_at) : NaN;
    const recall = manifest.recall?.recall;
    return {
      built: Number.isFinite(startedAt) && Number.isFinite(builtAt) && builtAt >= startedAt,
      ef: manifest.ef,
      seconds: manifest.build_seconds,
      ...(typeof recall === 'number' && typeof manifest.k === 'number'
        ? { recall: { k: manifest.k, recall } }
        : {}),
    };
  } catch {
    // The index line is extra information; without a readable manifest it is left out.
    return undefined;
  }
}

/** "built, ef 120, recall@100 0.982" or "reused (built earlier), ef 120". */
export function describeIndex(facts: IndexFacts): string {
  const recall =
    facts.recall === undefined
      ? ''
      : `, recall@${facts.recall.k} ${facts.recall.recall.toFixed(3)}`;
  return facts.built
    ? `built, ef ${facts.ef}${recall}`
    : `reused (built by an earlier deploy), ef ${facts.ef}${recall}`;
}
