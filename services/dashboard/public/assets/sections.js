/**
 * The page's three sections, each rebuilt from the state on every render:
 * the live revision per service (the serving records), the runs grouped by
 * model endpoint (newest endpoint activity first) with its charts; the
 * rejected events are rejected-section.js's.
 */
/* global document */
import { chartWidth, dropChartsExcept, endpointCharts } from './charts.js';
import { h, link, time } from './dom.js';
import { renderRun } from './run-card.js';
import { runLabel, sharesText, state } from './state.js';

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
export const els = {
  connection: $('connection'),
  connectionText: $('connection-text'),
  updatedAgo: $('updated-ago'),
  loadError: $('load-error'),
  freshness: $('freshness-banners'),
  liveTable: $('live-revisions'),
  liveEmpty: $('live-empty'),
  endpoints: $('endpoints'),
  runsEmpty: $('runs-empty'),
  rejectedGroups: $('rejected-groups'),
  rejectedEmpty: $('rejected-empty'),
  rejectedCapped: $('rejected-capped'),
  ignoredGroups: $('ignored-groups'),
  ignoredPart: $('ignored'),
};

export function renderEndpoints() {
  const groups = new Map();
  for (const run of state.runs.values()) {
    const list = groups.get(run.modelEndpointId) || [];
    list.push(run);
    groups.set(run.modelEndpointId, list);
  }
  const ordered = [...groups.entries()]
    .map(([endpoint, runs]) => {
      runs.sort((a, b) => b.runNumber - a.runNumber || (a.createdAt < b.createdAt ? 1 : -1));
      const latest = runs.reduce((max, run) => (run.updatedAt > max ? run.updatedAt : max), '');
      return { endpoint, runs, latest };
    })
    .sort((a, b) => (a.latest < b.latest ? 1 : a.latest > b.latest ? -1 : 0));
  const width = chartWidth(els.endpoints);
  dropChartsExcept(new Set(ordered.map(({ endpoint }) => endpoint)));
  els.endpoints.replaceChildren(
    ...ordered.map(({ endpoint, runs }) => {
      const live = [...state.serving.values()].filter(
        (record) => record.modelEndpointId === endpoint && record.liveRevision,
      );
      return h(
        'section',
        { class: 'endpoint', 'data-testid': 'endpoint', 'data-endpoint-id': endpoint },
        h(
          'header',
          {},
          h('h3', {}, endpoint),
          h('span', { class: 'muted' }, `${runs.length} ${runs.length === 1 ? 'run' : 'runs'}`),
          live.map((record) =>
            h(
              'span',
              { class: 'chip tone-good', 'data-testid': 'endpoint-serving' },
              `serving: ${record.liveRevision} (${runLabel(record.liveRunId)})`,
            ),
          ),
        ),
        endpointCharts(endpoint, runs, width),
        runs.map((run, index) => renderRun(run, index === 0)),
      );
    }),
  );
  els.runsEmpty.hidden = state.runs.size > 0;
}

export function renderLive() {
  const rows = [...state.serving.values()].sort((a, b) => (a.service < b.service ? -1 : 1));
  els.liveTable.tBodies[0].replaceChildren(
    ...rows.map((record) =>
      h(
        'tr',
        {
          'data-testid': 'live-revision',
          'data-service': record.service,
          'data-run-id': record.liveRunId,
        },
        h('td', { class: 'mono' }, record.service),
        h('td', { class: 'mono', 'data-testid': 'live-revision-name' }, record.liveRevision || '—'),
        h('td', { class: 'mono', 'data-testid': 'live-run' }, runLabel(record.liveRunId)),
        h('td', { 'data-testid': 'live-traffic' }, sharesText(record)),
        h('td', {}, record.serviceUrl ? link(record.serviceUrl, 'live-url') : '—'),
        h('td', { 'data-testid': 'live-since' }, time(record.since) || '—'),
        h(
          'td',
          { class: 'mono', 'data-testid': 'live-previous' },
          record.previous
            ? [
                record.previous.revision,
                record.previous.runId ? ` (run ${record.previous.runId})` : '',
                ' until ',
                time(record.previous.until),
              ]
            : '—',
        ),
      ),
    ),
  );
  els.liveTable.hidden = rows.length === 0;
  els.liveEmpty.hidden = rows.length > 0;
}
