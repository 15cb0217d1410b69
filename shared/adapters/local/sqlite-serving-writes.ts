import type Database from 'better-sqlite3';
import type { EditContext } from '../../domain/run-document-edits.js';
import {
  decideServingChange,
  servingLookup,
  type RecordServingRequest,
  type RecordServingResult,
} from '../../domain/serving-record.js';
import { writeTransaction } from './sqlite-database.js';
import type { SqliteRunStatements } from './sqlite-run-statements.js';
import type { SqliteServingStatements } from './sqlite-serving-statements.js';

/**
 * recordServing on SQLite: decides the serving change from the stored record
 * and the endpoint's runs, and writes it in one transaction. Calls `wrote`
 * after a commit that changed something (the store wakes its watchers).
 */
export function recordServingIn(
  db: Database.Database,
  statements: { readonly runs: SqliteRunStatements; readonly serving: SqliteServingStatements },
  request: RecordServingRequest,
  context: EditContext,
  wrote: () => void,
): RecordServingResult {
  const decide = () => {
    const lookup = servingLookup(request);
    const runs = statements.serving.runsFor(request.modelEndpointId, lookup.revisions);
    for (const runId of lookup.runIds) {
      const run = runs.some((r) => r.runId === runId) ? undefined : statements.runs.getRun(runId);
      if (run !== undefined) runs.push(run);
    }
    return decideServingChange(
      statements.serving.getRecord(request.service),
      runs,
      request,
      context,
    );
  };
  // Most observations (every reconciler pass) change nothing: decide on a
  // plain read first (WAL readers take no lock) and take the write lock
  // only to write, deciding again inside it.
  const peek = decide();
  if (peek.record === undefined && peek.runWrites.length === 0) return peek.result;
  const result = writeTransaction(db, () => {
    const decision = decide();
    for (const run of decision.runWrites) statements.runs.putRun(run);
    if (decision.record) statements.serving.putRecord(decision.record);
    return decision.result;
  });
  wrote();
  return result;
}
