/**
 * What the charts of one model endpoint show, built from its run documents
 * alone (no drawing here: charts.js draws): the offline metrics of each run's
 * training event and the figures of its verification, by run number, and
 * which revision served when, with what share of traffic, from the runs'
 * histories and canary steps (the serving record keeps only the current and
 * the previous revision, so the runs are the longer memory).
 *
 * A chart model: { x: number[], series: [{ label, values, scale?, color? }] }
 * where every `values` is as long as `x` and null where a run has no value.
 */

/** Status colours, the same as the badges' (base.css, canary.css). */
export const STATUS_COLOURS = {
  live: '#17753a',
  canary: '#6b3fa0',
  rolled_back: '#c27c00',
  replaced: '#7d8796',
  failed: '#b3261e',
};
/** Figures' colours: none of them a status colour, so no line reads as a status. */
const FIGURE_COLOURS = ['#1f5fbf', '#0f8b8d', '#d4548f', '#7a5c2e', '#5b3cc4', '#3d7a1f'];
/** The revisions the traffic chart follows at most (the newest that ever served). */
const TRAFFIC_RUNS = 8;

const byRunNumber = (a, b) => a.runNumber - b.runNumber;

/** (a) The training event's metrics (recall_at_100, loss, …), one series each, by run number. */
export function metricsModel(runs) {
  const withMetrics = runs
    .filter((run) => run.metrics && Object.keys(run.metrics).length > 0)
    .sort(byRunNumber);
  const names = [...new Set(withMetrics.flatMap((run) => Object.keys(run.metrics)))];
  return {
    x: withMetrics.map((run) => run.runNumber),
    series: names.map((name, i) => ({
      label: name,
      color: FIGURE_COLOURS[i % FIGURE_COLOURS.length],
      values: withMetrics.map((run) => finite(run.metrics[name])),
    })),
  };
}

/** (b) Verification latency p50/p99 (ms) and ANN recall@k (0–1, its own axis), by run number. */
export function verificationModel(runs) {
  const verified = runs.filter((run) => run.verification).sort(byRunNumber);
  const figures = verified.map((run) => run.verification);
  const k = figures.map((v) => v.recallAtK && v.recallAtK.k).findLast((value) => value);
  const series = [
    { label: 'latency p50 (ms)', scale: 'ms', values: figures.map((v) => finite(v.latencyP50Ms)) },
    { label: 'latency p99 (ms)', scale: 'ms', values: figures.map((v) => finite(v.latencyP99Ms)) },
    {
      label: `ANN recall@${k || 'k'}`,
      scale: 'recall',
      values: figures.map((v) => finite(v.recallAtK && v.recallAtK.recall)),
    },
  ].map((s, i) => ({ ...s, color: FIGURE_COLOURS[i] }));
  return {
    x: verified.map((run) => run.runNumber),
    series: series.filter((s) => s.values.some((value) => value !== null)),
  };
}

/**
 * (c) Each run's share of its service's traffic over time (x in seconds),
 * for the newest runs that ever served: 100% from when it went live until
 * it was replaced or rolled back (and again if a rollback brought it back),
 * its canary steps' shares while a canary, and what a canary took from the
 * live run beside it. A run's line starts when it first served; after it
 * stopped serving it drops to 0 and ends.
 */
export function trafficModel(runs, nowMs = Date.now()) {
  const served = runs
    .map((run) => ({ run, spans: servingSpans(run) }))
    .filter((entry) => entry.spans.length > 0)
    .sort((a, b) => byRunNumber(a.run, b.run))
    .slice(-TRAFFIC_RUNS);
  const times = new Set([nowMs]);
  for (const { spans } of served) {
    for (const span of spans) {
      times.add(span.from);
      if (Number.isFinite(span.to)) times.add(span.to);
      for (const step of span.steps || []) times.add(step.at);
    }
  }
  const x = [...times].filter((t) => t <= nowMs).sort((a, b) => a - b);
  const canaryShareAt = (t, service, except) =>
    served
      .filter(({ run }) => run !== except && serviceOf(run) === service)
      .reduce((sum, { spans }) => {
        const span = spans.find((s) => s.kind === 'canary' && s.from <= t && t < s.to);
        return sum + (span ? shareInCanary(span, t) : 0);
      }, 0);
  return {
    x: x.map((t) => t / 1000),
    series: served.map(({ run, spans }) => {
      const first = spans[0].from;
      const last = spans[spans.length - 1];
      return {
        label: `#${run.runNumber} ${(run.serving && run.serving.revision) || run.runId} (${run.status.replace('_', ' ')})`,
        color: STATUS_COLOURS[run.status] || STATUS_COLOURS.replaced,
        values: x.map((t) => {
          if (t < first) return null;
          const span = spans.find((s) => s.from <= t && t < s.to);
          if (span && span.kind === 'canary') return shareInCanary(span, t);
          if (span) return 100 - canaryShareAt(t, serviceOf(run), run);
          // Not serving: 0 where it stopped (so the drop shows), nothing after its last span.
          const stopped = spans.some((s) => s.to === t);
          if (stopped) return 0;
          return t > last.to ? null : 0;
        }),
      };
    }),
  };
}

/**
 * The spans a run served, from its history: `live` from each move to live
 * until the move away from it, `canary` likewise (with the canary's steps:
 * when each split began serving, and its share). An open span ends at Infinity.
 */
export function servingSpans(run) {
  const spans = [];
  let open;
  for (const entry of run.history || []) {
    const at = Date.parse(entry.at);
    if (!Number.isFinite(at)) continue;
    if (open && entry.to !== open.kind) {
      spans.push({ ...open, to: at });
      open = undefined;
    }
    if (!open && (entry.to === 'live' || entry.to === 'canary')) {
      open = { kind: entry.to, from: at };
      if (entry.to === 'canary') open.steps = canarySteps(run, at);
    }
  }
  // Still serving: the span has no end yet (the chart's last point is now).
  if (open) spans.push({ ...open, to: Infinity });
  return spans;
}

function canarySteps(run, from) {
  const steps = (run.canary && run.canary.steps) || [];
  return steps
    .map((step) => ({ at: Date.parse(step.trafficAt || step.decidedAt), percent: step.percent }))
    .filter((step) => Number.isFinite(step.at) && typeof step.percent === 'number')
    .map((step) => ({ ...step, at: Math.max(step.at, from) }));
}

/** The canary's share at `t`: the latest step that began serving by then (the first before any). */
function shareInCanary(span, t) {
  const steps = span.steps || [];
  const current = steps.filter((step) => step.at <= t).at(-1) || steps[0];
  return current ? current.percent : 0;
}

function serviceOf(run) {
  return run.serving ? run.serving.service : '';
}

function finite(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Values that are there (not null), per series: what a chart really plots. */
export function pointCounts(model) {
  return model.series.map((s) => s.values.filter((value) => value !== null).length);
}
