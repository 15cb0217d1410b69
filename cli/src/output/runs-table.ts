/**
 * The `recdeploy runs` table: one line per run, newest first as the store
 * lists them. TRAFFIC is the run's share of its service's traffic as the
 * serving record says the platform observes it (DESIGN.md §4: every view
 * reads that one record), never inferred from run statuses. A live run
 * whose endpoint passes a freshness limit (an open freshness alert) is marked
 * `stale`, with one line under the table per alert.
 */
import {
  freshnessLimitText,
  type FreshnessAlert,
  type RunDocument,
  type ServingRecord,
} from '@recdeploy/shared';
import { canaryNote } from './canary-steps.js';
import { plain, type StatusPaint } from './colour.js';
import { formatAge } from './durations.js';
import { lastError, runtimeOf } from './run-summary.js';
import { trafficShare } from './serving-share.js';
import { renderTable, type Column } from './table.js';

const COLUMNS: readonly Column[] = [
  { header: 'RUN' },
  { header: 'STATUS' },
  { header: 'ENDPOINT' },
  { header: 'RUN NO', align: 'right' },
  { header: 'RUNTIME' },
  { header: 'REVISION' },
  { header: 'TRAFFIC', align: 'right' },
  { header: 'AGE', align: 'right' },
  { header: 'NOTES', maxWidth: 60 },
];

/**
 * The table's lines; the age is counted from the run's creation to `now`.
 * `records` are the serving records (listServingRecords), any order;
 * `paint` colours the STATUS cells (none by default); `alerts` are the open
 * freshness alerts (listFreshnessAlerts).
 */
export function runsTable(
  runs: readonly RunDocument[],
  records: readonly ServingRecord[],
  now: Date,
  paint: StatusPaint = plain,
  alerts: readonly FreshnessAlert[] = [],
): string[] {
  const byService = new Map(records.map((record) => [record.service, record]));
  // Only the endpoints listed (--endpoint, --status narrow the table).
  const endpoints = new Set(runs.map((run) => run.modelEndpointId));
  const shown = alerts.filter((alert) => endpoints.has(alert.modelEndpointId));
  const stale = new Set(shown.map((alert) => alert.liveRunId));
  const table = renderTable(
    COLUMNS,
    runs.map((run) => [
      run.runId,
      stale.has(run.runId) ? `${paint(run.status)} stale` : paint(run.status),
      run.modelEndpointId,
      String(run.runNumber),
      runtimeOf(run),
      run.serving?.revision ?? '-',
      trafficCell(run, byService),
      formatAge(run.createdAt, now),
      notes(run) ?? '',
    ]),
  );
  return [...table, ...shown.map(staleLine)];
}

/** What `-o json|yaml` prints for a run: the document, plus `stale` when an alert names it live. */
export function withStaleMark(
  run: RunDocument,
  alerts: readonly FreshnessAlert[],
): RunDocument | (RunDocument & { readonly stale: readonly StaleMark[] }) {
  const marks = alerts.filter((alert) => alert.liveRunId === run.runId).map(staleMarkOf);
  return marks.length === 0 ? run : { ...run, stale: marks };
}

export interface StaleMark {
  readonly alertId: string;
  readonly kind: FreshnessAlert['kind'];
  readonly thresholdS: number;
  readonly breachedSince: string;
  readonly detail: string;
}

function staleMarkOf(alert: FreshnessAlert): StaleMark {
  const { alertId, kind, thresholdS, breachedSince, detail } = alert;
  return { alertId, kind, thresholdS, breachedSince, detail };
}

/** `stale: recs-home passes FRESHNESS_MAX_AGE (7d) since …: the live run … (limit 7d)`. */
function staleLine(alert: FreshnessAlert): string {
  return `stale: ${alert.modelEndpointId} passes ${freshnessLimitText(alert.kind, alert.thresholdS)} since ${alert.breachedSince}: ${alert.detail}`;
}

/** `100%`, `0%`; `-` before a revision exists; `—` when its service has no serving record yet. */
function trafficCell(run: RunDocument, byService: ReadonlyMap<string, ServingRecord>): string {
  const service = run.serving?.service;
  if (service === undefined || run.serving?.revision === undefined) return '-';
  const share = trafficShare(run, byService.get(service));
  return share === undefined ? '—' : `${share.percent}%`;
}

/**
 * Where a canary stands (and an operator's request not carried out yet); who
 * replaced a replaced run; else the last thing that went wrong.
 */
function notes(run: RunDocument): string | undefined {
  if (run.status === 'canary' && run.canary !== undefined) return canaryNote(run.canary);
  if (run.status === 'replaced') return `replaced by run ${run.replacedBy ?? '?'}`;
  return lastError(run);
}
