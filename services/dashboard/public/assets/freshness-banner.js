/**
 * One banner per open freshness alert, at the top of the page: the endpoint,
 * which limit its live model passed, since when, and the reconciler's
 * one-line detail (docs/architecture.md "Freshness"). The alerts come with
 * the snapshot (api/runs) and are read again (api/freshness) every
 * REFRESH_MS and when what serves changes: the reconciler opens and closes
 * them between run changes, which the event stream does not carry.
 */
/* global fetch */
import { h, time } from './dom.js';

const REFRESH_MS = 15_000;
const LIMITS = {
  max_age: (limit) => `its live model finished training more than ${limit} ago`,
  max_lag: (limit) => `a newer training run has not gone live within ${limit}`,
};

let alerts = [];

/** Keeps the open alerts the dashboard answered with (anything else counts as none). */
export function setFreshnessAlerts(list) {
  alerts = Array.isArray(list) ? list : [];
}

export function renderFreshness(container) {
  container.replaceChildren(
    ...alerts.map((alert) =>
      h(
        'div',
        {
          class: 'banner freshness-banner',
          role: 'alert',
          'data-testid': 'freshness-banner',
          'data-endpoint-id': alert.modelEndpointId,
          'data-kind': alert.kind,
        },
        h('strong', {}, `${alert.modelEndpointId} is stale: `),
        limitText(alert),
        ' · since ',
        time(alert.breachedSince),
        h('div', { class: 'freshness-detail' }, alert.detail),
      ),
    ),
  );
  container.hidden = alerts.length === 0;
}

/** Reads the open alerts again; calls `changed` when they differ from what is shown. */
export async function refreshFreshness(changed) {
  const response = await fetch('api/freshness', { headers: { Accept: 'application/json' } });
  if (!response.ok) return;
  const body = await response.json();
  const before = JSON.stringify(alerts);
  setFreshnessAlerts(body.freshnessAlerts);
  if (JSON.stringify(alerts) !== before) changed();
}

export const FRESHNESS_REFRESH_MS = REFRESH_MS;

function limitText(alert) {
  const text = LIMITS[alert.kind];
  const limit = seconds(alert.thresholdS);
  return text ? text(limit) : `limit ${alert.kind} (${limit}) passed`;
}

/** "7d", "1d 12h", "6h", "90m" → "1h 30m": as the operator set the limit. */
function seconds(total) {
  const units = [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ];
  const first = units.findIndex(([, size]) => total >= size);
  if (first === -1) return `${total}s`;
  const [name, size] = units[first];
  const text = `${Math.floor(total / size)}${name}`;
  const next = units[first + 1];
  const rest = next ? Math.floor((total % size) / next[1]) : 0;
  return rest > 0 ? `${text} ${rest}${next[0]}` : text;
}
