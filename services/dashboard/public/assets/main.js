/**
 * The page's entry point: loads the state (GET api/runs) whenever the event
 * stream (GET api/events) is (re)connected, applies every live event, and
 * re-renders at most once per turn of the event loop. The connection
 * indicator (a dot and a sentence, not a badge: run statuses are badges)
 * says whether the stream is open and when the page last heard from it.
 */
/* global document, EventSource, fetch, setInterval, setTimeout, window */
import { duration } from './dom.js';
import {
  FRESHNESS_REFRESH_MS,
  refreshFreshness,
  renderFreshness,
  setFreshnessAlerts,
} from './freshness-banner.js';
import { renderRejected } from './rejected-section.js';
import { els, renderEndpoints, renderLive } from './sections.js';
import { applyRun, applyServing, state } from './state.js';

let renderQueued = false;
function render() {
  if (renderQueued) return;
  renderQueued = true;
  setTimeout(() => {
    renderQueued = false;
    renderLive();
    renderEndpoints();
    renderRejected(els);
    renderFreshness(els.freshness);
  }, 0);
}

let snapshotInFlight;
function loadSnapshot() {
  snapshotInFlight ??= fetch('api/runs', { headers: { Accept: 'application/json' } })
    .then(async (response) => {
      const body = await response.json();
      if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
      // Records and runs that changed after the snapshot was read keep their newer state.
      for (const record of body.serving) applyServing(record);
      for (const run of body.runs) applyRun(run);
      state.rejected = body.rejectedEvents;
      state.rejectedLimit = body.rejectedEventsLimit;
      setFreshnessAlerts(body.freshnessAlerts);
      els.loadError.hidden = true;
      heard();
      render();
    })
    .catch((error) => {
      els.loadError.textContent = `Could not load the runs: ${error.message}`;
      els.loadError.hidden = false;
    })
    .finally(() => {
      snapshotInFlight = undefined;
    });
  return snapshotInFlight;
}

// ---- the connection indicator ----
const CONNECTION_TEXT = {
  connecting: 'connecting…',
  open: 'connected',
  reconnecting: 'reconnecting…',
};
let lastHeardAt;
function setConnection(stateName) {
  els.connection.dataset.state = stateName;
  els.connectionText.textContent = CONNECTION_TEXT[stateName];
  showLastHeard();
}
/** Anything from the dashboard (the state, a change, a heartbeat) says the page is current. */
function heard() {
  lastHeardAt = new Date();
  els.connection.title = `last heard from the dashboard at ${lastHeardAt.toISOString()}`;
  showLastHeard();
}
function showLastHeard() {
  if (!lastHeardAt) return;
  const seconds = Math.max(0, Math.round((Date.now() - lastHeardAt.getTime()) / 1000));
  els.updatedAgo.textContent = ` · updated ${seconds < 60 ? `${seconds} s` : duration(seconds * 1000)} ago`;
}

// ---- live updates ----
function connect() {
  const source = new EventSource('api/events');
  source.addEventListener('ready', () => {
    setConnection('open');
    // Subscribed before `ready`: nothing falls between this snapshot and the stream.
    void loadSnapshot();
  });
  source.addEventListener('run', (event) => {
    heard();
    if (applyRun(JSON.parse(event.data))) render();
  });
  source.addEventListener('serving', (event) => {
    heard();
    if (applyServing(JSON.parse(event.data))) {
      render();
      // What serves changed: a freshness breach may have begun or ended.
      refreshFreshness(render).catch(() => undefined);
    }
  });
  source.addEventListener('heartbeat', heard);
  source.addEventListener('error', () => {
    setConnection('reconnecting');
    // Refused (e.g. 503): EventSource gives up on its own; try again later.
    if (source.readyState === EventSource.CLOSED) setTimeout(connect, 5000);
  });
}

// Running steps show their elapsed time, and the indicator its age, without waiting for a change.
setInterval(() => {
  for (const el of document.querySelectorAll('[data-running-since]')) {
    el.textContent = duration(Date.now() - Date.parse(el.dataset.runningSince));
  }
  showLastHeard();
}, 1000);

// The reconciler opens and closes freshness alerts between run changes.
setInterval(() => refreshFreshness(render).catch(() => undefined), FRESHNESS_REFRESH_MS);

// The charts take their width from the page: a new width redraws them.
window.addEventListener('resize', render);

connect();
