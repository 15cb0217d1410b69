/**
 * The charts of one model endpoint, drawn with uPlot (served by the dashboard
 * itself, like every asset): (a) the training event's offline metrics and
 * (b) the verification's latency and ANN recall, by run number, and (c) each
 * revision's share of traffic over time. Each chart is kept between renders
 * and given new data when its runs change (uPlot redraws), rebuilt only when
 * its series change. With fewer than two points a chart is a short text.
 *
 * Every chart's <figure> carries what it was given: `data-series` (the
 * series' labels, JSON), `data-points` (how many values each plots) and
 * `data-axes` (the axes' labels, x first).
 */
/* global window */
import uPlot from './uPlot.esm.js';
import { metricsModel, pointCounts, trafficModel, verificationModel } from './chart-data.js';
import { h, num } from './dom.js';

const HEIGHT = 170;
const AXIS = { stroke: '#5b6573', grid: { stroke: '#eceef1' }, ticks: { stroke: '#dde1e7' } };
const MIN_TRAFFIC_SPAN_S = 600;
const RUN_INCREMENTS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

const CHARTS = [
  {
    kind: 'metrics',
    title: 'Offline metrics (training event)',
    model: metricsModel,
    fewText: (model) =>
      model.x.length === 0
        ? 'No run has reported offline metrics yet.'
        : `Run #${model.x[0]}: ${model.series.map((s) => `${s.label} ${num(s.values[0])}`).join(' · ')}. The chart starts with a second run.`,
    options: (model) => byRunOptions(model, [{ scale: 'y', label: 'value' }]),
  },
  {
    kind: 'verification',
    title: 'Verification: latency and ANN recall',
    model: verificationModel,
    fewText: (model) =>
      model.x.length === 0
        ? 'No run has been verified yet.'
        : `Run #${model.x[0]}: ${model.series.map((s) => `${s.label} ${num(s.values[0])}`).join(' · ')}. The chart starts with a second verified run.`,
    options: (model) =>
      byRunOptions(model, [
        { scale: 'ms', label: 'latency (ms)' },
        { scale: 'recall', label: 'recall', side: 1, range: [0, 1] },
      ]),
  },
  {
    kind: 'traffic',
    title: 'Traffic share by revision',
    model: (runs) => trafficModel(runs),
    fewText: () => 'No revision of this endpoint has served traffic yet.',
    options: trafficOptions,
  },
];

/** endpoint|kind → { figure, plot, shape } */
const kept = new Map();

/** The endpoint's three charts, each a <figure>, updated in place when it already exists. */
export function endpointCharts(endpoint, runs, width) {
  const seen = new Set();
  const figures = CHARTS.map((chart) => {
    const key = `${endpoint}|${chart.kind}`;
    seen.add(key);
    return chartFigure(key, chart, chart.model(runs), width);
  });
  return h('div', { class: 'charts', 'data-testid': 'charts' }, figures);
}

/** Forgets charts of endpoints no longer shown (their figures are gone from the page). */
export function dropChartsExcept(endpoints) {
  for (const [key, entry] of kept) {
    if (!endpoints.has(key.slice(0, key.lastIndexOf('|')))) {
      if (entry.plot) entry.plot.destroy();
      kept.delete(key);
    }
  }
}

function chartFigure(key, chart, model, width) {
  const labels = model.series.map((s) => s.label);
  const counts = pointCounts(model);
  const plottable = model.x.length >= 2 && counts.some((count) => count > 0);
  const shape = JSON.stringify([plottable, width, model.series.map((s) => [s.label, s.color])]);
  let entry = kept.get(key);
  if (!entry || entry.shape !== shape) {
    if (entry && entry.plot) entry.plot.destroy();
    const figure = h(
      'figure',
      { class: 'chart', 'data-testid': 'chart', 'data-chart': chart.kind },
      h('figcaption', {}, chart.title),
    );
    let plot;
    if (plottable) {
      const options = chart.options(model);
      // uPlot draws axis labels on the canvas: the figure names them for readers of the DOM.
      figure.dataset.axes = JSON.stringify(options.axes.map((axis) => axis.label));
      plot = new uPlot(
        { width, height: HEIGHT, ...options },
        toData(model),
        figure.appendChild(h('div', { class: 'plot' })),
      );
    }
    entry = { figure, plot, shape };
    kept.set(key, entry);
  } else if (entry.plot) {
    entry.plot.setData(toData(model));
  }
  const figure = entry.figure;
  figure.dataset.series = JSON.stringify(labels);
  figure.dataset.points = JSON.stringify(counts);
  const few = figure.querySelector('[data-testid="chart-empty"]');
  if (!plottable) {
    const text = chart.fewText(model);
    if (few) few.textContent = text;
    else figure.append(h('p', { class: 'muted chart-empty', 'data-testid': 'chart-empty' }, text));
  }
  return figure;
}

function toData(model) {
  return [model.x, ...model.series.map((s) => s.values)];
}

/** x = run number (whole numbers only), one y axis per scale. */
function byRunOptions(model, yAxes) {
  const scales = { x: { time: false } };
  for (const axis of yAxes) scales[axis.scale] = axis.range ? { range: axis.range } : {};
  return {
    scales,
    axes: [
      {
        ...AXIS,
        label: 'run',
        incrs: RUN_INCREMENTS,
        values: (u, splits) => splits.map((v) => (Number.isInteger(v) ? `#${v}` : '')),
      },
      ...yAxes
        .filter((axis) => model.series.some((s) => (s.scale || 'y') === axis.scale))
        .map((axis) => ({
          ...AXIS,
          scale: axis.scale,
          label: axis.label,
          side: axis.side ?? 3,
          ...(axis.side === 1 ? { grid: { show: false } } : {}),
        })),
    ],
    series: [
      { label: 'run', value: (u, v) => (v == null ? '—' : `#${v}`) },
      ...model.series.map((s) => ({
        label: s.label,
        scale: s.scale || 'y',
        stroke: s.color,
        width: 2,
        points: { show: true, size: 7, fill: s.color },
        value: (u, v) => (v == null ? '—' : num(v)),
      })),
    ],
  };
}

/** x = time, y = % of the service's traffic, one stepped line per revision in its status's colour. */
function trafficOptions(model) {
  return {
    scales: {
      // At least the last ten minutes: a stack started a moment ago gets a readable time axis.
      x: { range: (u, min, max) => [Math.min(min, max - MIN_TRAFFIC_SPAN_S), max] },
      y: { range: [0, 100] },
    },
    axes: [
      { ...AXIS, label: 'time (this browser’s time zone)', values: timeTicks },
      { ...AXIS, label: '% of traffic', values: (u, splits) => splits.map((v) => `${v}%`) },
    ],
    series: [
      {},
      ...model.series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: 3,
        paths: uPlot.paths.stepped({ align: 1 }),
        points: { show: false },
        value: (u, v) => (v == null ? '—' : `${v}%`),
      })),
    ],
  };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n) => String(n).padStart(2, '0');
/**
 * "16:00", with "5 Dec" under the first tick of each day: the page's own date
 * words, 24-hour; with seconds when the ticks are less than a minute apart.
 */
function timeTicks(u, splits) {
  let lastDay;
  const withSeconds = splits.length > 1 && splits[1] - splits[0] < 60;
  return splits.map((seconds) => {
    const date = new Date(seconds * 1000);
    const clock =
      `${pad(date.getHours())}:${pad(date.getMinutes())}` +
      (withSeconds ? `:${pad(date.getSeconds())}` : '');
    const day = `${date.getDate()} ${MONTHS[date.getMonth()]}`;
    if (day === lastDay) return clock;
    lastDay = day;
    return `${clock}\n${day}`;
  });
}

/** Around each plot: the figure's padding and border (charts.css), and the gap between figures. */
const FIGURE_FRAME = 2 * 8 + 2;
const GAP = 12;
/** How wide each plot is: three figures side by side in the endpoints' column. */
export function chartWidth(container) {
  const available = (container && container.clientWidth) || window.innerWidth - 40;
  return Math.max(260, Math.floor((available - 2 * GAP) / 3) - FIGURE_FRAME);
}
