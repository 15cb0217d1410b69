/** Finding the run a command names, and saying helpfully when it is not there. */
import type { RunDocument, RunStore } from '@recdeploy/shared';
import { closeMatches } from '../output/close-matches.js';

/** "; did you mean …?" with the closest run ids, or how to list them. */
export async function notFoundHint(store: RunStore, runId: string): Promise<string> {
  const known = (await store.listRuns({ limit: 500 })).map((r) => r.runId);
  const close = closeMatches(runId, known);
  if (close.length > 0) return `; did you mean ${close.join(', ')}?`;
  return known.length === 0 ? ' (there are no runs yet)' : '; `recdeploy runs` lists the runs';
}

/**
 * The run `runId`.
 * @param where where runs are kept, for the message (describeRunStore).
 * @throws Error "run … not found in …" with the closest run ids.
 */
export async function requireRun(
  store: RunStore,
  runId: string,
  where: string,
): Promise<RunDocument> {
  const run = await store.getRun(runId);
  if (run === undefined) {
    throw new Error(`run ${runId} not found in ${where}${await notFoundHint(store, runId)}`);
  }
  return run;
}
