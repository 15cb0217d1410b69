/**
 * A run's canary (run.canary, shared/domain/canary-state.ts), step by step as
 * the ticks write it: each step's share of traffic, its window (from when its
 * split served, and how long it has held), the latest reading of the canary
 * beside the stable (requests, error ratio, p50, p99, degenerate answers)
 * with each metric's limit, the verdict and why; then the operator's request
 * and the outcome with its reason. Nothing is judged here: the page shows
 * what the tick decided.
 */
import { duration, h, time } from './dom.js';

const PHASE_TEXT = {
  promoting: 'promoting: moving all traffic to the canary',
  aborting: 'aborting: moving all traffic back to the stable',
  promoted: 'promoted: the canary took all the traffic',
  aborted: 'aborted: all traffic went back to the stable',
};
const VERDICT = {
  passed: ['passed', 'tone-good'],
  failed: ['failed', 'tone-bad'],
  promoted_by_operator: ['promoted by operator', 'tone-good'],
  aborted_by_operator: ['aborted by operator', 'tone-warn'],
};
const WITHIN = ['✓ within', '✗ above'];
const METRICS = [
  ['error_ratio', 'error ratio', (m) => (m.requests > 0 ? m.errors / m.requests : undefined), pct],
  ['latency_p50', 'latency p50', (m) => m.latencyP50Ms, ms],
  ['latency_p99', 'latency p99', (m) => m.latencyP99Ms, ms],
  [
    'degenerate_ratio',
    'degenerate answers',
    (m) =>
      m.answers && m.answers.inspected > 0 ? m.answers.degenerate / m.answers.inspected : undefined,
    pct,
  ],
];

/** Steps counted without the final 100% (reaching it is the promotion). */
function judged(canary) {
  return Math.max(1, canary.plan.steps.length - 1);
}

/** `holding step 1 of 2 (10%)`, `aborting: …`: where the canary stands, in a few words. */
export function canaryHeadline(canary) {
  const step = `step ${canary.stepIndex + 1} of ${judged(canary)} (${canary.plan.steps[canary.stepIndex] ?? 100}% of traffic)`;
  if (canary.phase === 'moving') return `canary: moving traffic for ${step}`;
  if (canary.phase === 'holding') return `canary: holding ${step}, judged against the stable`;
  return `canary ${PHASE_TEXT[canary.phase] ?? canary.phase}`;
}

export function canaryPanel(run, stableLabel) {
  const canary = run.canary;
  if (!canary) return null;
  const plan = canary.plan;
  return h(
    'section',
    { class: 'canary', 'data-testid': 'canary', 'data-phase': canary.phase },
    h(
      'header',
      {},
      h('h4', {}, 'Canary'),
      h(
        'span',
        { class: 'chip tone-canary', 'data-testid': 'canary-phase' },
        canaryHeadline(canary),
      ),
      h(
        'span',
        { class: 'muted' },
        'revision ',
        h('span', { class: 'mono' }, canary.revision),
        ' against stable ',
        h('span', { class: 'mono', 'data-testid': 'canary-stable' }, canary.stableRevision),
        canary.stableRunId ? ` (${stableLabel(canary.stableRunId)})` : '',
      ),
      h(
        'span',
        { class: 'muted', 'data-testid': 'canary-plan' },
        `plan ${plan.steps.map((p) => `${p}%`).join(' → ')} · each step held ≥ ${plan.minHoldS} s with ≥ ${plan.minRequests} requests on each revision`,
      ),
    ),
    h(
      'ol',
      { class: 'canary-steps' },
      canary.steps.map((step, index) => stepItem(canary, step, index)),
    ),
    request(canary),
    outcome(canary),
  );
}

function stepItem(canary, step, index) {
  const [verdict, tone] = VERDICT[step.verdict] ?? [
    step.trafficAt ? 'judging…' : 'moving traffic…',
    'tone-progress',
  ];
  const analysis = step.analysis;
  return h(
    'li',
    {
      'data-testid': 'canary-step',
      'data-step-index': index,
      'data-verdict': step.verdict || (step.trafficAt ? 'judging' : 'moving'),
    },
    h(
      'div',
      { class: 'canary-step-head' },
      h('b', {}, `Step ${index + 1} of ${judged(canary)}`),
      h('span', { class: 'chip', 'data-testid': 'canary-percent' }, `${step.percent}% of traffic`),
      h('span', { class: 'muted', 'data-testid': 'canary-window' }, windowText(step)),
      h('span', { class: `chip ${tone}`, 'data-testid': 'canary-verdict' }, verdict),
    ),
    analysis ? metricsTable(analysis, canary.plan) : null,
    analysis
      ? h('p', { class: 'canary-summary', 'data-testid': 'canary-summary' }, analysis.summary)
      : h('p', { class: 'muted' }, step.trafficAt ? 'No reading of its window yet.' : ''),
  );
}

/** `window from 10:00:05 · held 42 s` (counting up while the step holds). */
function windowText(step) {
  if (!step.trafficAt) return ['decided ', time(step.decidedAt), ' · the split is being made'];
  const from = Date.parse(step.trafficAt);
  const held = step.endedAt
    ? h('span', { 'data-testid': 'canary-held' }, duration(Date.parse(step.endedAt) - from))
    : h(
        'span',
        { 'data-testid': 'canary-held', 'data-running-since': step.trafficAt },
        duration(Date.now() - from),
      );
  return ['window from ', time(step.trafficAt), ' · held ', held];
}

/** Rows: requests, then each metric with the canary's value, the stable's, the limit. */
function metricsTable(analysis, plan) {
  const findings = new Map(analysis.findings.map((f) => [f.metric, f]));
  const row = (key, label, canary, stable, limit, passed, words = WITHIN) =>
    h(
      'tr',
      { 'data-metric': key, 'data-passed': passed === undefined ? null : String(passed) },
      h('th', {}, label),
      h('td', { 'data-testid': 'canary-value' }, canary),
      h('td', { 'data-testid': 'stable-value' }, stable),
      h('td', { class: 'muted' }, limit),
      h(
        'td',
        { class: passed === false ? 'fail' : passed ? 'pass' : 'muted' },
        passed === undefined ? 'not judged' : words[passed ? 0 : 1],
      ),
    );
  return h(
    'table',
    { class: 'canary-metrics', 'data-testid': 'canary-metrics' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, ''),
        h('th', {}, 'canary'),
        h('th', {}, 'stable'),
        h('th', {}, 'limit'),
        h('th', {}, ''),
      ),
    ),
    h(
      'tbody',
      {},
      row(
        'requests',
        'requests',
        count(analysis.canary.requests),
        count(analysis.stable.requests),
        `≥ ${plan.minRequests} each`,
        analysis.canary.requests >= plan.minRequests &&
          analysis.stable.requests >= plan.minRequests,
        ['✓ enough', '… too few yet'],
      ),
      METRICS.map(([key, label, value, format]) => {
        const finding = findings.get(key);
        return row(
          key,
          label,
          format(value(analysis.canary)),
          format(value(analysis.stable)),
          finding && finding.limit !== undefined ? `≤ ${format(finding.limit)}` : '—',
          finding ? finding.passed : undefined,
        );
      }),
    ),
  );
}

function request(canary) {
  const r = canary.request;
  if (!r) return null;
  const pending = canary.phase === 'moving' || canary.phase === 'holding';
  return h(
    'p',
    { 'data-testid': 'canary-request' },
    `${r.action === 'abort' ? 'Abort' : 'Promotion'} requested by ${r.by} at `,
    time(r.at),
    pending ? ': waiting for the next canary tick' : ': carried out',
  );
}

function outcome(canary) {
  const o = canary.outcome;
  if (!o) return null;
  const tone = o.result === 'promoted' ? 'tone-good' : 'tone-warn';
  return h(
    'div',
    { class: `canary-outcome ${tone}`, 'data-testid': 'canary-outcome', 'data-result': o.result },
    h('strong', {}, PHASE_TEXT[canary.phase] ?? o.result),
    h('p', { 'data-testid': 'canary-outcome-reason' }, o.reason),
    h('span', { class: 'muted' }, 'decided ', time(o.at)),
  );
}

function count(n) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
}
function pct(ratio) {
  if (ratio === undefined) return '—';
  return `${(ratio * 100).toFixed(ratio > 0 && ratio < 0.001 ? 2 : 1)}%`;
}
function ms(value) {
  if (value === undefined) return '—';
  return `${value < 10 && !Number.isInteger(value) ? value.toFixed(1) : Math.round(value)} ms`;
}
