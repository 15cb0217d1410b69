/**
 * The rejected events, grouped by what arrived: by `kind` (a short phrase the
 * functions record, such as "Cloud Audit Log entry" or "HTTP GET"), falling
 * back to the code when a record has none. Each group shows how many, the
 * newest, and the latest reason, and opens onto its events. EVENT.IGNORED
 * ones (well formed, deliberately starting nothing) are informational and
 * listed apart from the real rejections.
 */
import { h, time } from './dom.js';
import { state } from './state.js';

const IGNORED = 'EVENT.IGNORED';

/** Groups newest first; each group's events newest first (the order they arrive in). */
export function groupRejected(events) {
  const groups = new Map();
  for (const event of events) {
    const key = event.kind || event.code;
    const group = groups.get(key) || { key, events: [], newest: event };
    group.events.push(event);
    if (event.receivedAt > group.newest.receivedAt) group.newest = event;
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) =>
    a.newest.receivedAt < b.newest.receivedAt
      ? 1
      : a.newest.receivedAt > b.newest.receivedAt
        ? -1
        : 0,
  );
}

export function renderRejected(els) {
  const ignored = state.rejected.filter((event) => event.code === IGNORED);
  const rejected = state.rejected.filter((event) => event.code !== IGNORED);
  els.rejectedGroups.replaceChildren(
    ...groupRejected(rejected).map((group) => groupView(group, 'rejected-group')),
  );
  els.ignoredGroups.replaceChildren(
    ...groupRejected(ignored).map((group) => groupView(group, 'ignored-group')),
  );
  els.rejectedEmpty.hidden = rejected.length > 0;
  // Counts cover what the snapshot read: say so when that was all it could read.
  const full = state.rejectedLimit !== undefined && state.rejected.length >= state.rejectedLimit;
  els.rejectedCapped.hidden = !full;
  els.rejectedCapped.textContent = full
    ? `Counted over the latest ${state.rejectedLimit} rejected and ignored events.`
    : '';
  els.ignoredPart.hidden = ignored.length === 0;
}

function groupView(group, testid) {
  const { key, events, newest } = group;
  const isIgnored = testid === 'ignored-group';
  return h(
    'details',
    { class: 'reject-group', 'data-testid': testid, 'data-kind': key, 'data-count': events.length },
    h(
      'summary',
      {},
      h('span', { class: 'reject-kind', 'data-testid': 'group-kind' }, key),
      isIgnored ? h('span', { class: 'chip' }, 'ignored') : null,
      h(
        'span',
        { class: 'chip', 'data-testid': 'group-count' },
        `${events.length} ${events.length === 1 ? 'event' : 'events'}`,
      ),
      h('span', { class: 'muted' }, 'newest ', time(newest.receivedAt)),
      h('span', { class: 'reject-reason', 'data-testid': 'group-reason' }, newest.reason),
    ),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Received', 'Event', 'Code', 'Why', 'Source'].map((t) => h('th', {}, t)),
        ),
      ),
      h(
        'tbody',
        {},
        events.map((event) =>
          h(
            'tr',
            { 'data-testid': 'rejected-event', 'data-event-id': event.eventId },
            h('td', {}, time(event.receivedAt)),
            h('td', { class: 'mono' }, event.eventId),
            h('td', { class: 'mono' }, event.code),
            h(
              'td',
              {},
              event.reason,
              event.excerpt ? h('div', { class: 'mono muted' }, event.excerpt) : null,
            ),
            h('td', { class: 'mono' }, event.source || ''),
          ),
        ),
      ),
    ),
  );
}
