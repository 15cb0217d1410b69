/**
 * What the page knows: the newest version seen of every run and of every
 * service's serving record (what the platform observes serving), the
 * rejected events, and which run cards the user opened or closed. The
 * snapshot (GET api/runs) and the live events both go through applyRun and
 * applyServing, so an older copy never replaces a newer one.
 */

export const state = {
  runs: new Map(), // runId → run document (newest version seen)
  serving: new Map(), // service → serving record (what the platform observes)
  rejected: [],
  rejectedLimit: undefined, // how many the snapshot asked for: counts are within these
  userOpen: new Map(), // runId → open/closed as the user last chose
};

/** Keeps the newest version of a run; true when the run changed. */
export function applyRun(run) {
  const known = state.runs.get(run.runId);
  if (known && known.updatedAt > run.updatedAt) return false;
  state.runs.set(run.runId, run);
  return true;
}
/** Keeps the newest serving record of a service; true when it changed. */
export function applyServing(record) {
  const known = state.serving.get(record.service);
  if (known && known.observedAt > record.observedAt) return false;
  state.serving.set(record.service, record);
  return true;
}

/** The run's share of its service's traffic, from the record; undefined without one. */
export function trafficOf(run) {
  const s = run.serving;
  if (!s || !s.revision) return undefined;
  const record = state.serving.get(s.service);
  if (!record) return undefined;
  const share = record.traffic.find((entry) => entry.revision === s.revision);
  return share ? share.percent : 0;
}
export function runLabel(runId) {
  if (!runId) return '—';
  const run = state.runs.get(runId);
  return run ? `${runId} (#${run.runNumber})` : runId;
}
export function sharesText(record) {
  if (record.traffic.length === 0) return 'none';
  return record.traffic.map((share) => `${share.revision} ${share.percent}%`).join(' · ');
}
