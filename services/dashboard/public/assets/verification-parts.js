/**
 * A run's verification: every check (passed, failed, or skipped: it could
 * not run, said why, and counted neither way), the measured figures, the
 * model fingerprint the revision had to serve (short id and training run;
 * the full hashes in its tooltip) and the replay of live queries (recall and
 * overlap at k, degenerate share, candidate against live latency, which
 * revision's sample and how old it was when replayed).
 */
import { between, duration, h, num, time } from './dom.js';

export function verification(run) {
  const v = run.verification;
  if (!v) return null;
  return [
    h('h4', {}, 'Verification'),
    h('ul', { class: 'checks', 'data-testid': 'checks' }, v.checks.map(checkItem)),
    h(
      'div',
      { class: 'figures' },
      v.latencyP50Ms === undefined
        ? null
        : figure('latency p50', `${num(v.latencyP50Ms)} ms`, 'latency-p50'),
      v.latencyP99Ms === undefined
        ? null
        : figure('latency p99', `${num(v.latencyP99Ms)} ms`, 'latency-p99'),
      v.recallAtK ? figure(`recall@${v.recallAtK.k}`, num(v.recallAtK.recall), 'recall') : null,
    ),
    v.fingerprint ? fingerprint(v.fingerprint) : null,
    v.replay ? replay(v.replay, run) : null,
  ];
}

export function figure(label, value, testid) {
  return h(
    'span',
    { class: 'figure' },
    h('span', { class: 'muted' }, `${label} `),
    h('b', { 'data-testid': testid }, value),
  );
}

function checkItem(check) {
  const skipped = !check.passed && check.skipped === true;
  const [mark, tone, words] = check.passed
    ? ['✓', 'pass', 'passed']
    : skipped
      ? ['–', 'skip', 'skipped']
      : ['✗', 'fail', 'failed'];
  return h(
    'li',
    {
      'data-testid': 'check',
      'data-check': check.name,
      'data-passed': String(check.passed),
      'data-skipped': skipped ? 'true' : null,
    },
    h('span', { class: tone, 'aria-label': words }, mark),
    h(
      'span',
      { class: 'mono' },
      check.name,
      skipped ? h('span', { class: 'chip', 'data-testid': 'check-skipped' }, 'skipped') : null,
    ),
    h('span', { 'data-testid': 'check-detail' }, check.detail || words),
  );
}

function fingerprint(f) {
  const full = [
    `fingerprint ${f.id}`,
    `query model sha256 ${f.queryModelSha256}`,
    `candidates sha256 ${f.candidatesSha256}`,
  ].join('\n');
  return h(
    'p',
    { class: 'fingerprint', 'data-testid': 'fingerprint', title: full },
    h('span', { class: 'muted' }, 'Fingerprint '),
    h('b', { class: 'mono', 'data-testid': 'fingerprint-id' }, f.id.slice(0, 12)),
    f.trainingRunId
      ? [
          h('span', { class: 'muted' }, ' of training run '),
          h('span', { class: 'mono', 'data-testid': 'fingerprint-run' }, f.trainingRunId),
        ]
      : h('span', { class: 'muted' }, ' (the bundle names no training run)'),
  );
}

function replay(r, run) {
  const k = r.k;
  const replayedAt = run.steps && run.steps.verify && run.steps.verify.endedAt;
  const age = r.sampledAt && replayedAt ? duration(between(r.sampledAt, replayedAt)) : '';
  const latency = (p50, p99) => (p50 === undefined ? '—' : `${num(p50)} / ${num(p99)} ms`);
  return h(
    'div',
    { class: 'replay', 'data-testid': 'replay' },
    h('h5', {}, 'Replay of live queries'),
    h(
      'div',
      { class: 'figures' },
      figure('queries', String(r.queries), 'replay-queries'),
      figure(
        `recall@${k}`,
        r.recallAtK === undefined ? 'not measured' : num(r.recallAtK),
        'replay-recall',
      ),
      figure(
        `overlap@${k} with live`,
        r.overlapAtK === undefined ? 'not measured' : num(r.overlapAtK),
        'replay-overlap',
      ),
      figure(
        'degenerate',
        `${num(Math.round(r.degenerateShare * 1000) / 10)}%`,
        'replay-degenerate',
      ),
    ),
    h(
      'dl',
      {},
      h('dt', {}, 'p50 / p99'),
      h(
        'dd',
        { 'data-testid': 'replay-latency' },
        `candidate ${latency(r.candidateLatencyP50Ms, r.candidateLatencyP99Ms)}, live ${latency(r.liveLatencyP50Ms, r.liveLatencyP99Ms)}`,
      ),
      r.liveRevision
        ? [
            h('dt', {}, 'Live revision'),
            h('dd', { class: 'mono', 'data-testid': 'replay-live-revision' }, r.liveRevision),
          ]
        : null,
      r.sampledAt
        ? [
            h('dt', {}, 'Sample'),
            h(
              'dd',
              { 'data-testid': 'replay-sample-age' },
              'written ',
              time(r.sampledAt),
              age ? `, ${age} before the replay` : '',
            ),
          ]
        : null,
    ),
  );
}
