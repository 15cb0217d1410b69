/**
 * `recdeploy status <run>`: one run in detail, as text: what it is, where each
 * step stands (attempts, durations, errors), where it serves and why that
 * runtime, and every verification check.
 */
import { STEP_NAMES, type RunDocument, type Verification } from '@recdeploy/shared';
import { elapsedMs, formatAge, formatDuration } from './durations.js';
import { describeError } from './run-summary.js';
import { renderTable } from './table.js';

/** The run as lines of text, with ages and running steps' durations counted to `now`. */
export function describeRun(run: RunDocument, now: Date): string[] {
  return [
    ...field('run', run.runId),
    ...field('status', `${run.status} (since ${formatAge(run.updatedAt, now)} ago)`),
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
    ...serving(run),
    ...verification(run.verification),
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

function serving(run: RunDocument): string[] {
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
      ...(s.url === undefined ? [] : field('url', s.url)),
      ...(s.tagUrl === undefined ? [] : field('tag url', s.tagUrl)),
    ]),
  ];
}

function verification(v: Verification | undefined): string[] {
  if (v === undefined) return [];
  const passed = v.checks.filter((c) => c.passed).length;
  const verdict =
    v.checks.length > 0 && passed === v.checks.length
      ? `passed (${passed} of ${v.checks.length} checks)`
      : `failed (${passed} of ${v.checks.length} checks passed)`;
  const figures = [
    v.latencyP50Ms === undefined ? undefined : `p50 ${v.latencyP50Ms} ms`,
    v.latencyP99Ms === undefined ? undefined : `p99 ${v.latencyP99Ms} ms`,
    v.recallAtK === undefined ? undefined : `recall@${v.recallAtK.k} ${v.recallAtK.recall}`,
  ].filter((f): f is string => f !== undefined);
  const checks = renderTable(
    [{ header: '' }, { header: '' }, { header: '' }],
    v.checks.map((c) => [c.passed ? 'pass' : 'FAIL', c.name, c.detail ?? '']),
  ).slice(1);
  return ['', `verification  ${[verdict, ...figures].join(', ')}`, ...indent(checks)];
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
