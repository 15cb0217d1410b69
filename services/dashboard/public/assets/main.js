/**
 * The page's entry point: loads the state (GET api/runs) whenever the event
 * stream (GET api/events) is (re)connected, applies every live event, and
 * re-renders at most once per turn of the event loop.
 */
/* global document, EventSource, fetch, setInterval, setTimeout */
import { duration, time } from './dom.js';
import { els, renderEndpoints, renderLive, renderRejected } from './sections.js';
import { applyRun, applyServing, state } from './state.js';

let renderQueued = false;
function render() {
  if (renderQueued) return;
  renderQueued = true;
  setTimeout(() => {
    renderQueued = false;
    renderLive();
    renderEndpoints();
    renderRejected();
    els.updatedAt.replaceChildren('updated ', time(new Date().toISOString()));
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
      els.loadError.hidden = true;
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

// ---- live updates ----
function setConnection(stateName, text) {
  els.connection.dataset.state = stateName;
  els.connection.textContent = text;
}
function connect() {
  const source = new EventSource('api/events');
  source.addEventListener('ready', () => {
    setConnection('open', 'live');
    // Subscribed before `ready`: nothing falls between this snapshot and the stream.
    void loadSnapshot();
  });
  source.addEventListener('run', (event) => {
    if (applyRun(JSON.parse(event.data))) render();
  });
  source.addEventListener('serving', (event) => {
    if (applyServing(JSON.parse(event.data))) render();
  });
  source.addEventListener('heartbeat', (event) => {
    els.connection.title = `last heartbeat ${JSON.parse(event.data).at}`;
  });
  source.addEventListener('error', () => {
    if (source.readyState === EventSource.CLOSED) {
      // Refused (e.g. 503): EventSource gives up on its own; try again later.
      setConnection('reconnecting', 'reconnecting…');
      setTimeout(connect, 5000);
    } else {
      setConnection('reconnecting', 'reconnecting…');
    }
  });
}

// Running steps show their elapsed time without waiting for a change.
setInterval(() => {
  for (const el of document.querySelectorAll('[data-running-since]')) {
    el.textContent = duration(Date.now() - Date.parse(el.dataset.runningSince));
  }
}, 1000);

connect();
