/**
 * What "converged" means for a run of the crash tests, and the facts checked
 * once it has: the state the same run reaches without a crash (live, every
 * step succeeded, the endpoint's previous run `replaced` by it, its outcome
 * announced on deployment-finished), and exactly one of each side effect
 * (registry version, revision, traffic change), exactly one live run.
 */
import type { RunDocument } from '@recdeploy/shared';
import type { PushReceiver } from '../push-receiver.js';
import {
  platformLiveRevision,
  readRun,
  readRunsOf,
  readServingRecord,
  registryVersionsOf,
  revisionsOf,
  trafficChangesOf,
} from './stack-files.js';
import { finishedMessagesOf, type TrainingRun } from './training-runs.js';

export interface RunUnderTest {
  readonly run: TrainingRun;
  /** The endpoint's run before it (live until this one takes over), if any. */
  readonly previous?: TrainingRun;
}

/** Why the run has not converged yet, or undefined once it has. */
export function notConvergedBecause(
  dataDir: string,
  subject: RunUnderTest,
  finished: PushReceiver,
): string | undefined {
  const doc = readRun(dataDir, subject.run.runId);
  if (doc === undefined) return 'no run document';
  if (doc.status !== 'live') return `status ${doc.status}`;
  if (subject.previous !== undefined) {
    const previous = readRun(dataDir, subject.previous.runId);
    if (previous?.status !== 'replaced' || previous.replacedBy !== subject.run.runId) {
      return `the previous run ${subject.previous.runId} is ${previous?.status ?? 'missing'}${previous?.replacedBy ? ` (replaced by ${previous.replacedBy})` : ''}, not replaced by this run`;
    }
  }
  if (!finishedMessagesOf(finished, subject.run.runId).some((m) => m.outcome === 'live')) {
    return 'live, but no deployment-finished announced it';
  }
  return undefined;
}

/** Everything that differs from one clean run's effects; empty when all holds. */
export function effectProblems(dataDir: string, subject: RunUnderTest): string[] {
  const { run } = subject;
  const problems: string[] = [];
  const doc = readRun(dataDir, run.runId);
  if (doc === undefined) return ['no run document'];
  if (doc.status !== 'live') problems.push(`status ${doc.status}, expected live`);
  for (const step of ['register', 'deploy', 'verify'] as const) {
    if (doc.steps[step].status !== 'succeeded') {
      problems.push(`step ${step} ${doc.steps[step].status}, expected succeeded`);
    }
  }
  if (doc.serving?.revision !== run.revision) {
    problems.push(
      `the run records revision ${doc.serving?.revision ?? 'none'}, expected ${run.revision}`,
    );
  }
  // Whatever attempt recorded it live, the checks that passed are in the run
  // (verify saves them before it moves traffic).
  const checks = doc.verification?.checks.map((check) => check.name) ?? [];
  if (!checks.includes('ann_recall') || !checks.includes('smoke_predictions')) {
    problems.push(
      `verification checks recorded: ${checks.join(', ') || 'none'}; expected ann_recall and smoke_predictions among them`,
    );
  }

  const versions = registryVersionsOf(dataDir, run.runId);
  if (versions.length !== 1) {
    problems.push(
      `${versions.length} registry versions for the run (${versions.map((v) => `${v.model}@${v.version}`).join(', ')}), expected 1`,
    );
  } else if (doc.registry?.version !== String(versions[0]!.version)) {
    problems.push(
      `the run records registry version ${doc.registry?.version ?? 'none'}, the registry has ${versions[0]!.version}`,
    );
  }

  // Every revision of this run's number on the service, whatever its name.
  const revisions = revisionsOf(dataDir, run.service).filter((r) =>
    r.revision.startsWith(`${run.service}-r${run.runNumber}-`),
  );
  if (revisions.length !== 1 || revisions[0]!.revision !== run.revision) {
    problems.push(
      `${revisions.length} revisions for the run (${revisions.map((r) => `${r.revision}:${r.state}`).join(', ')}), expected 1 (${run.revision})`,
    );
  }
  const changes = trafficChangesOf(dataDir, run.service).filter((c) => c.revision === run.revision);
  if (changes.length !== 1) {
    problems.push(
      `${changes.length} traffic changes to ${run.revision} (${changes.map((c) => `${c.at} from ${c.fromRevision ?? 'none'}`).join('; ')}), expected 1`,
    );
  }
  const liveRevision = platformLiveRevision(dataDir, run.service);
  if (liveRevision !== run.revision) {
    problems.push(`the platform serves ${liveRevision ?? 'nothing'}, expected ${run.revision}`);
  }
  const record = readServingRecord(dataDir, run.service);
  if (record?.liveRevision !== run.revision || record.liveRunId !== run.runId) {
    problems.push(
      `the serving record says ${record?.liveRevision ?? 'nothing'} of run ${record?.liveRunId ?? 'none'} serves, expected ${run.revision} of ${run.runId}`,
    );
  }
  const live = readRunsOf(dataDir, run.modelEndpointId).filter((r) => r.status === 'live');
  if (live.length !== 1) {
    problems.push(
      `${live.length} live runs on ${run.service} (${live.map((r) => r.runId).join(', ')}), expected 1`,
    );
  }
  if (subject.previous !== undefined) {
    const previous = readRun(dataDir, subject.previous.runId);
    if (previous?.status !== 'replaced' || previous.replacedBy !== run.runId) {
      problems.push(
        `the previous run ${subject.previous.runId} is ${previous?.status ?? 'missing'} (replacedBy ${previous?.replacedBy ?? 'none'}), expected replaced by ${run.runId}`,
      );
    }
  }
  return problems;
}

/** The run as a failure message shows it: status, steps, the newest history lines. */
export function describeRun(doc: RunDocument | undefined, historyLines = 8): string {
  if (doc === undefined) return '(no run document)';
  const steps = (['register', 'deploy', 'verify'] as const)
    .map((name) => {
      const step = doc.steps[name];
      const lease = step.lease ? `, lease ${step.lease.owner} until ${step.lease.expiresAt}` : '';
      const error = step.error
        ? `, error ${step.error.code}: ${step.error.message.slice(0, 200)}`
        : '';
      const handOff = step.handOffAt ? `, hand-off ${step.handOffAt}` : '';
      return `    ${name}: ${step.status}, ${step.attempts} attempt(s)${lease}${handOff}${error}`;
    })
    .join('\n');
  const history = doc.history
    .slice(-historyLines)
    .map(
      (h) =>
        `    ${h.at} ${h.from ?? '∅'} → ${h.to}${h.reason ? `: ${h.reason.slice(0, 300)}` : ''}`,
    )
    .join('\n');
  return [
    `  run ${doc.runId}: ${doc.status}${doc.statusReason ? ` (${doc.statusReason.slice(0, 300)})` : ''}${doc.replacedBy ? `, replaced by ${doc.replacedBy}` : ''}`,
    `  steps:\n${steps}`,
    `  history (newest ${historyLines}):\n${history}`,
  ].join('\n');
}

/** What a LiveRunSampler saw on one endpoint. */
export interface LiveRunSamples {
  readonly modelEndpointId: string;
  readonly samples: number;
  /** The most runs seen `live` at once (DESIGN.md §4: at most one, always). */
  readonly maxLive: number;
  /** Samples with several live runs, as "run, run" lists (first few). */
  readonly overlaps: readonly string[];
  /** About how long (ms) no run was live although the platform served one of the endpoint's revisions. */
  readonly noLiveRunMs: number;
}

/**
 * Samples, every `intervalMs` while a restarted stack recovers, how many runs
 * of each endpoint are `live`, and how long none is while its router serves.
 */
export class LiveRunSampler {
  private readonly seen = new Map<
    string,
    { samples: number; maxLive: number; overlaps: string[]; noLiveRunMs: number }
  >();
  private readonly timer: NodeJS.Timeout;
  private last = Date.now();

  constructor(
    private readonly dataDir: string,
    private readonly endpoints: readonly { modelEndpointId: string; service: string }[],
    intervalMs = 50,
  ) {
    for (const { modelEndpointId } of endpoints) {
      this.seen.set(modelEndpointId, { samples: 0, maxLive: 0, overlaps: [], noLiveRunMs: 0 });
    }
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const now = Date.now();
    const elapsed = now - this.last;
    this.last = now;
    for (const { modelEndpointId, service } of this.endpoints) {
      const entry = this.seen.get(modelEndpointId)!;
      let live: RunDocument[];
      try {
        live = readRunsOf(this.dataDir, modelEndpointId).filter((r) => r.status === 'live');
      } catch {
        continue; // the file is being created; the next sample reads it
      }
      entry.samples += 1;
      entry.maxLive = Math.max(entry.maxLive, live.length);
      if (live.length > 1 && entry.overlaps.length < 5) {
        entry.overlaps.push(live.map((r) => r.runId).join(', '));
      }
      if (live.length === 0 && platformLiveRevision(this.dataDir, service) !== undefined) {
        entry.noLiveRunMs += elapsed;
      }
    }
  }

  stop(): LiveRunSamples[] {
    clearInterval(this.timer);
    return [...this.seen.entries()].map(([modelEndpointId, entry]) => ({
      modelEndpointId,
      ...entry,
    }));
  }
}
