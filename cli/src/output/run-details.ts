/**
 * `recdeploy status <run>`: one run in detail, as text: what it is, where each
 * step stands (attempts, durations, errors), where it is deployed and why that
 * runtime, whether its revision serves (from the service's serving record:
 * what the platform observes, not what the run's status implies), every
 * verification check, and its canary step by step (canary-steps.ts).
 */
import {
  STEP_NAMES,
  verificationPassed,
  type ModelFingerprint,
  type ReplayReport,
  type RunDocument,
  type ServingRecord,
  type Verification,
  type VerificationCheck,
} from '@recdeploy/shared';
import { describeCanary } from './canary-steps.js';
import { plain, type StatusPaint } from './colour.js';
import { elapsedMs, formatAge, formatDuration } from './durations.js';
import { describeError } from './run-summary.js';
import { trafficShare } from './serving-share.js';
import { renderTable } from './table.js';

/**
 * The run as lines of text, with ages and running steps' durations counted to
 * `now`. `record` is the serving record of the run's service, if it has one;
 * `paint` colours the status (none by default).
 */
export function describeRun(
  run: RunDocument,
  now: Date,
  record?: ServingRecord,
  paint: StatusPaint = plain,
): string[] {
  return [
    ...field('run', run.runId),
    ...field('status', `${paint(run.status)} (since ${formatAge(run.updatedAt, now)} ago)`),
    ...(run.status === 'replaced'
      ? field('replaced', `by run ${run.replacedBy ?? '?'}: a newer run took its traffic`)
      : []),
    ...(run.statusReason === undefined ? [] : field('reason', run.statusReason)),
    ...field(
      'model',
      `${run.modelSlug}: ${run.modelType}, ${run.retrievalAlgorithm}, ${run.isBlessed ? 'blessed' : 'not blessed'}`,
    ),
    ...field('endpoint', `${run.modelEndpointId}, run number ${run.runNumber}`),
    ...field('artifact', run.artifactUri),
    ...field('metrics', metrics(run.metrics)),
    ...(run.registry === undefined
      ? []
      : field('registry', `${run.registry.model} version ${run.registry.version}`)),
    ...field('created', `${run.createdAt} (${formatAge(run.createdAt, now)} ago)`),
    '',
    'steps',
    ...indent(steps(run, now)),
    ...serving(run, record, now),
    ...verification(run.verification),
    ...(run.canary === undefined ? [] : ['', ...describeCanary(run.canary, now)]),
  ];
}

function steps(run: RunDocument, now: Date): string[] {
  return renderTable(
    [
      { header: 'STEP' },
      { header: 'STATUS' },
      { header: 'ATTEMPTS', align: 'right' },
      { header: 'DURATION', align: 'right' },
      { header: 'ERROR' },
    ],
    STEP_NAMES.map((name) => {
      const step = run.steps[name];
      const ms = elapsedMs(step.startedAt, step.endedAt, now);
      const lease =
        step.lease === undefined
          ? ''
          : ` (held by ${step.lease.owner} until ${step.lease.expiresAt})`;
      return [
        name,
        step.status,
        String(step.attempts),
        ms === undefined ? '-' : formatDuration(ms),
        `${step.error === undefined ? '' : describeError(step.error)}${lease}`.trim(),
      ];
    }),
  );
}

function serving(run: RunDocument, record: ServingRecord | undefined, now: Date): string[] {
  const s = run.serving;
  if (s === undefined) return [];
  return [
    '',
    'serving',
    ...indent([
      ...field('runtime', s.mode === undefined ? s.runtime : `${s.runtime} (mode ${s.mode})`),
      ...(s.runtimeReason === undefined ? [] : field('why', s.runtimeReason)),
      ...(s.image === undefined ? [] : field('image', s.image)),
      ...field('service', s.service),
      ...(s.revision === undefined ? [] : field('revision', s.revision)),
      ...(s.revision === undefined ? [] : field('traffic', traffic(run, record, now))),
      ...(s.url === undefined ? [] : field('url', s.url)),
      ...(s.tagUrl === undefined ? [] : field('tag url', s.tagUrl)),
    ]),
  ];
}

/** Whether the run's revision serves, and with which share, as the serving record says. */
function traffic(run: RunDocument, record: ServingRecord | undefined, now: Date): string {
  const service = run.serving?.service ?? '?';
  const share = trafficShare(run, record);
  if (share === undefined) {
    return `unknown: service ${service} has no serving record yet (nothing observed serving it)`;
  }
  const observed = `observed ${formatAge(share.observedAt, now)} ago`;
  const since =
    share.since === undefined ? '' : ` since ${share.since} (${formatAge(share.since, now)} ago)`;
  if (share.percent > 0) {
    return `${share.percent}% of service ${service}${share.liveRevision === run.serving?.revision ? since : ''}; ${observed}`;
  }
  if (share.liveRevision === undefined) return `0%: nothing serves service ${service}; ${observed}`;
  const whose = share.liveRunId === undefined ? '' : ` (run ${share.liveRunId})`;
  return `0%: service ${service} serves revision ${share.liveRevision}${whose}${since}; ${observed}`;
}

function verification(v: Verification | undefined): string[] {
  if (v === undefined) return [];
  const passed = v.checks.filter((c) => c.passed).length;
  const skipped = v.checks.filter((c) => c.skipped === true).length;
  const skippedNote = skipped === 0 ? '' : `, ${skipped} skipped`;
  const verdict = verificationPassed(v.checks)
    ? `passed (${passed} of ${v.checks.length} checks${skippedNote})`
    : `failed (${passed} of ${v.checks.length} checks passed${skippedNote})`;
  const figures = [
    v.latencyP50Ms === undefined ? undefined : `p50 ${v.latencyP50Ms} ms`,
    v.latencyP99Ms === undefined ? undefined : `p99 ${v.latencyP99Ms} ms`,
    v.recallAtK === undefined ? undefined : `recall@${v.recallAtK.k} ${v.recallAtK.recall}`,
  ].filter((f): f is string => f !== undefined);
  const checks = renderTable(
    [{ header: '' }, { header: '' }, { header: '' }],
    v.checks.map((c) => [checkMark(c), c.name, c.detail ?? '']),
  ).slice(1);
  return [
    '',
    `verification  ${[verdict, ...figures].join(', ')}`,
    ...indent(checks),
    ...indent(modelFingerprint(v.fingerprint)),
    ...indent(replayReport(v.replay)),
  ];
}

/** The fingerprint the revision had to serve: short id and training run (the full hashes follow). */
function modelFingerprint(f: ModelFingerprint | undefined): string[] {
  if (f === undefined) return [];
  return [
    `fingerprint  ${f.id} of training run ${f.trainingRunId ?? '(not named by the bundle)'}`,
    `             query model sha256 ${f.queryModelSha256}`,
    `             candidates sha256 ${f.candidatesSha256}`,
  ];
}

/** The replay of live queries: what was replayed from where, and every figure. */
function replayReport(r: ReplayReport | undefined): string[] {
  if (r === undefined) return [];
  const ms = (p50: number | undefined, p99: number | undefined) =>
    p50 === undefined ? 'no answer' : `p50 ${p50} ms, p99 ${p99 ?? '?'} ms`;
  const source = `${r.liveRevision ?? 'the live revision'}${r.sampledAt === undefined ? '' : ` (written ${r.sampledAt})`}`;
  return [
    `replay       ${r.queries} live queries of ${source}, k ${r.k}`,
    `             recall@${r.k} ${r.recallAtK ?? 'not measured'}, overlap@${r.k} with live ${r.overlapAtK ?? 'not measured'}, degenerate ${r.degenerateShare}`,
    `             candidate ${ms(r.candidateLatencyP50Ms, r.candidateLatencyP99Ms)}; live ${ms(r.liveLatencyP50Ms, r.liveLatencyP99Ms)}`,
    `             sample ${r.sampleUri}`,
  ];
}

function checkMark(check: VerificationCheck): string {
  if (check.passed) return 'pass';
  return check.skipped === true ? 'skip' : 'FAIL';
}

function metrics(values: Readonly<Record<string, number>>): string {
  const entries = Object.entries(values);
  return entries.length === 0 ? '-' : entries.map(([name, value]) => `${name} ${value}`).join(', ');
}

function field(label: string, value: string): string[] {
  const [first = '', ...rest] = value.split('\n');
  return [`${label.padEnd(10)}${first}`, ...rest.map((line) => `${' '.repeat(10)}${line}`)];
}

function indent(lines: readonly string[]): string[] {
  return lines.map((line) => `  ${line}`);
}
