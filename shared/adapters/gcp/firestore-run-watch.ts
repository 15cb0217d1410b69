import { Timestamp, type CollectionReference } from '@google-cloud/firestore';
import type { RunChange, Unsubscribe } from '../../ports/run-store.port.js';
import { fromFirestoreRun } from './firestore-run-mapping.js';

/** Options of watchRuns. */
export interface WatchRunsOptions {
  /** When the watch starts, by the store's clock (the clock writers stamp updatedAt with). */
  readonly start: Date;
  readonly onError: (error: unknown) => void;
}

/**
 * watch() for Firestore: one `onSnapshot` listener on the runs updated since
 * `start`. Listening to the whole collection would read every run ever made
 * when a dashboard opens. Every later change enters that query (updatedAt only
 * grows), so it arrives as added or modified.
 *
 * Only versions stamped at or after `start` are delivered, in every snapshot,
 * not just the first: the emulator was seen to add a document written before
 * the call in a later snapshot, which a first-snapshot-only filter let through.
 * A write racing the subscription is not lost (it is stamped after `start`,
 * and Firestore serves the listener a consistent snapshot at its read time);
 * one from the same millisecond as the call may be delivered too. The
 * emulator breaks that promise about once in a hundred races: it can answer
 * with an empty first snapshot read after the commit and never send the
 * document (seen with the raw client), so its contract suite waits before
 * writing. A writer
 * whose clock runs behind the store's by more than the gap between its write
 * and the call is not seen: dashboards load the current list first, then
 * watch. Within a snapshot changes are delivered in commit (updateTime) order.
 * Firestore may fold rapid updates of one document into one snapshot: the
 * listener then sees the latest state only.
 */
export function watchRuns(
  runs: CollectionReference,
  listener: (change: RunChange) => void,
  options: WatchRunsOptions,
): Unsubscribe {
  const startMs = options.start.getTime();
  return runs.where('updatedAt', '>=', Timestamp.fromMillis(startMs)).onSnapshot(
    (snapshot) => {
      const changes = snapshot
        .docChanges()
        .filter((change) => change.type !== 'removed')
        .sort((a, b) => compareTimestamps(a.doc.updateTime, b.doc.updateTime));
      for (const change of changes) {
        try {
          const run = fromFirestoreRun(change.doc.data());
          if (Date.parse(run.updatedAt) < startMs) continue;
          listener({ run });
        } catch (error) {
          options.onError(error);
        }
      }
    },
    (error) => options.onError(error),
  );
}

function compareTimestamps(a: Timestamp, b: Timestamp): number {
  return a.seconds - b.seconds || a.nanoseconds - b.nanoseconds;
}
