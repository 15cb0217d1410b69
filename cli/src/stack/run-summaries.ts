/**
 * While the stack serves, one line for each run that ends (live, failed,
 * skipped, rolled back), whoever published it: the run store's change feed
 * (RunStore.watch, every change in commit order) says when. Each ending is
 * told once, keyed by run, status and the time of the change that ended it
 * (a live run rolled back later is a second ending). A run that a newer one
 * replaced is named in the newer one's live line: both change in one
 * transaction, so they arrive in the same batch of the feed.
 */
import type { RunDocument, RunStore } from '@recdeploy/shared';
import { isEndStatus, runEndLine } from '../output/run-end-line.js';

export interface RunSummaries {
  /**
   * Runs told elsewhere (the sample run the start narrates): their changes are
   * not summarised while held; `release` marks the ending the narration told.
   */
  hold(runId: string): void;
  release(run: RunDocument): void;
  stop(): void;
}

export function watchRunEnds(store: RunStore, tell: (line: string) => void): RunSummaries {
  const told = new Set<string>();
  const held = new Set<string>();
  let batch: RunDocument[] = [];
  let flushing = false;
  const flush = (): void => {
    flushing = false;
    const runs = batch;
    batch = [];
    const replacedBy = new Map<string, string[]>();
    for (const run of runs) {
      if (run.status === 'replaced' && run.replacedBy !== undefined) {
        replacedBy.set(run.replacedBy, [...(replacedBy.get(run.replacedBy) ?? []), run.runId]);
      }
    }
    for (const run of runs) {
      if (held.has(run.runId) || !isEndStatus(run.status)) continue;
      const key = endingKey(run);
      if (told.has(key)) continue;
      told.add(key);
      tell(runEndLine(run, replacedBy.get(run.runId) ?? []));
    }
  };
  const unsubscribe = store.watch(({ run }) => {
    batch.push(run);
    if (flushing) return;
    flushing = true;
    // The feed delivers one poll's changes synchronously: tell them together.
    setImmediate(flush);
  });
  return {
    hold: (runId) => held.add(runId),
    release(run) {
      held.delete(run.runId);
      if (isEndStatus(run.status)) told.add(endingKey(run));
    },
    stop: unsubscribe,
  };
}

function endingKey(run: RunDocument): string {
  const ended = run.history.findLast((entry) => entry.to === run.status);
  return `${run.runId}\u0000${run.status}\u0000${ended?.at ?? run.updatedAt}`;
}
