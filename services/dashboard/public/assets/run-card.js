/**
 * One run's card: a summary line (status, number, model, traffic share,
 * what is happening or why it ended) that opens onto the run's body: what
 * went wrong, the model, the step timeline, serving and verification, the
 * canary step by step (canary-panel.js) and the history.
 */
import { between, duration, h, time } from './dom.js';
import { canaryHeadline, canaryPanel } from './canary-panel.js';
import { identity, serving, steps } from './run-parts.js';
import { verification } from './verification-parts.js';
import { runLabel, state, trafficOf } from './state.js';
import { STATUS_TEXT, TERMINAL, problemHeadline, toneOf } from './words.js';

export function renderRun(run, isNewest) {
  const open = state.userOpen.has(run.runId)
    ? state.userOpen.get(run.runId)
    : isNewest || !(TERMINAL.includes(run.status) || run.status === 'live');
  const details = h('details', {
    class: 'run',
    'data-testid': 'run',
    'data-run-id': run.runId,
    'data-status': run.status,
    'data-updated-at': run.updatedAt,
    open,
  });
  const summary = h('summary', {}, summaryLine(run));
  summary.addEventListener('click', () => state.userOpen.set(run.runId, !details.open));
  details.append(
    summary,
    h(
      'div',
      { class: 'run-body' },
      problem(run),
      h('div', {}, identity(run)),
      h('div', {}, h('h4', {}, 'Steps'), steps(run)),
      h('div', {}, serving(run), verification(run)),
      canaryPanel(run, runLabel),
      history(run),
    ),
  );
  return details;
}

function summaryLine(run) {
  const share = trafficOf(run);
  const ended = TERMINAL.includes(run.status) || run.status === 'live';
  return [
    h(
      'span',
      {
        class: `badge ${toneOf(run.status)}`,
        'data-testid': 'run-status',
        title: STATUS_TEXT[run.status],
      },
      run.status,
    ),
    h('span', { class: 'run-number', 'data-testid': 'run-number' }, `#${run.runNumber}`),
    h('span', { 'data-testid': 'model-slug' }, run.modelSlug),
    h(
      'span',
      { class: 'muted' },
      'training run ',
      h('span', { class: 'mono', 'data-testid': 'training-run-id' }, run.trainingRunId),
    ),
    share !== undefined && share > 0
      ? h(
          'span',
          { class: 'chip tone-good', 'data-testid': 'serving-live' },
          `serving ${share}% of traffic`,
        )
      : null,
    h('span', { class: 'muted', 'data-testid': 'status-text' }, statusText(run)),
    h('span', { class: 'muted' }, ended ? outcomeLine(run) : ['updated ', time(run.updatedAt)]),
  ];
}

/** "live after 12.3 s · rolled back 4 Dec 17:50:42": the outcome, then what became of it, and when. */
function outcomeLine(run) {
  const history = run.history || [];
  const reached = outcomeEntry(run);
  const since = history.findLast((entry) => entry.to === run.status);
  const took = h('span', { 'data-testid': 'run-took' }, outcomeAfter(run, reached));
  if (!reached || !since) return [took, ' · ', time(run.updatedAt)];
  if (since === reached) return [took, ' · ', time(reached.at)];
  const now =
    run.status === reached.to ? `${run.status} again since` : run.status.replace('_', ' ');
  return [took, ' · ', h('span', { 'data-testid': 'run-since' }, now, ' ', time(since.at))];
}

/** The first outcome a run reaches: what "took" measures up to. */
const OUTCOMES = ['live', 'failed', 'skipped'];
function outcomeEntry(run) {
  const history = run.history || [];
  return (
    history.find((entry) => OUTCOMES.includes(entry.to)) ||
    history.find((entry) => entry.to === run.status)
  );
}
/**
 * "live after 12.3 s": from received to when the run first went live (or
 * first reached failed or skipped), from its history; a later rollback or
 * replacement ends the run's serving, not its deployment, so it does not
 * count. A run that never got there (an aborted canary) counts to its end.
 */
function outcomeAfter(run, reached) {
  const to = reached ? reached.to : run.status;
  const at = reached ? reached.at : run.updatedAt;
  return `${to.replace('_', ' ')} after ${duration(between(run.createdAt, at))}`;
}

/** Why it ended; where its canary stands; else what its status means. */
function statusText(run) {
  if (TERMINAL.includes(run.status)) return problemHeadline(run);
  if (run.status === 'canary' && run.canary) return canaryHeadline(run.canary);
  return STATUS_TEXT[run.status];
}

function problem(run) {
  if (!TERMINAL.includes(run.status)) return null;
  const headline = problemHeadline(run);
  return h(
    'div',
    {
      class: `problem ${problemTone(run.status)}`,
      'data-testid': 'run-problem',
    },
    h('strong', { 'data-testid': 'run-problem-headline' }, headline),
    run.statusReason ? h('p', { 'data-testid': 'status-reason' }, run.statusReason) : null,
  );
}

function problemTone(status) {
  if (status === 'failed') return '';
  return status === 'replaced' ? 'tone-info' : 'tone-warn';
}

function history(run) {
  if (!run.history || run.history.length === 0) return null;
  return h(
    'details',
    { class: 'history' },
    h('summary', { class: 'muted' }, `History (${run.history.length} entries)`),
    h(
      'ol',
      {},
      run.history.map((entry) =>
        h(
          'li',
          {},
          time(entry.at),
          ` ${entry.from || '∅'} → ${entry.to}`,
          entry.reason ? `: ${entry.reason}` : '',
        ),
      ),
    ),
  );
}
