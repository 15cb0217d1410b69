/** The `recdeploy runs` table: one line per run, newest first as the store lists them. */
import type { RunDocument } from '@recdeploy/shared';
import { formatAge } from './durations.js';
import { lastError, runtimeOf } from './run-summary.js';
import { renderTable, type Column } from './table.js';

const COLUMNS: readonly Column[] = [
  { header: 'RUN' },
  { header: 'STATUS' },
  { header: 'ENDPOINT' },
  { header: 'RUN NO', align: 'right' },
  { header: 'RUNTIME' },
  { header: 'REVISION' },
  { header: 'AGE', align: 'right' },
  { header: 'LAST ERROR', maxWidth: 60 },
];

/** The table's lines; the age is counted from the run's creation to `now`. */
export function runsTable(runs: readonly RunDocument[], now: Date): string[] {
  return renderTable(
    COLUMNS,
    runs.map((run) => [
      run.runId,
      run.status,
      run.modelEndpointId,
      String(run.runNumber),
      runtimeOf(run),
      run.serving?.revision ?? '-',
      formatAge(run.createdAt, now),
      lastError(run) ?? '',
    ]),
  );
}
