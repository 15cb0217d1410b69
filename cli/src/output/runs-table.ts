/**
 * The `recdeploy runs` table: one line per run, newest first as the store
 * lists them. TRAFFIC is the run's share of its service's traffic as the
 * serving record says the platform observes it (DESIGN.md §4: every view
 * reads that one record), never inferred from run statuses.
 */
import type { RunDocument, ServingRecord } from '@recdeploy/shared';
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
 * `paint` colours the STATUS cells (none by default).
 */
export function runsTable(
  runs: readonly RunDocument[],
  records: readonly ServingRecord[],
  now: Date,
  paint: StatusPaint = plain,
): string[] {
  const byService = new Map(records.map((record) => [record.service, record]));
  return renderTable(
    COLUMNS,
    runs.map((run) => [
      run.runId,
      paint(run.status),
      run.modelEndpointId,
      String(run.runNumber),
      runtimeOf(run),
      run.serving?.revision ?? '-',
      trafficCell(run, byService),
      formatAge(run.createdAt, now),
      notes(run) ?? '',
    ]),
  );
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
