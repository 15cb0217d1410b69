import { Timestamp, type CollectionReference } from '@google-cloud/firestore';
import type { RunChange, Unsubscribe } from '../../ports/run-store.port.js';
import { fromFirestoreRun } from './firestore-run-mapping.js';

/** Options of watchRuns. */
export interface WatchRunsOptions {
  /** When the watch starts, by the store's clock (the clock writers stamp updatedAt with). */
  readonly start: Date;
  /**
   * How far before `start` the listened query reaches, for writers whose
   * clocks run behind ours; it only widens the first snapshot.
   */
  readonly slackMs: number;
  readonly onError: (error: unknown) => void;
}

/**
 * watch() for Firestore: one `onSnapshot` listener on the runs updated since
 * (start − slack). Listening to the whole collection would read every run
 * ever made when a dashboard opens. Every later change enters that query
 * (updatedAt only grows), so it arrives as added or modified.
 *
 * The first snapshot is the state at subscription; of it, only runs stamped
 * at or after `start` are delivered (a write racing the subscription must not
 * be lost; one from the same millisecond as the call may be delivered too).
 * Within a snapshot changes are delivered in commit (updateTime) order.
 * Firestore may fold rapid updates of one document into one snapshot: the
 * listener then sees the latest state only.
 */
export function watchRuns(
  runs: CollectionReference,
  listener: (change: RunChange) => void,
  options: WatchRunsOptions,
): Unsubscribe {
  const since = Timestamp.fromMillis(options.start.getTime() - options.slackMs);
  const startMs = options.start.getTime();
  let first = true;
  return runs.where('updatedAt', '>=', since).onSnapshot(
    (snapshot) => {
      const initial = first;
      first = false;
      const changes = snapshot
        .docChanges()
        .filter((change) => change.type !== 'removed')
        .sort((a, b) => compareTimestamps(a.doc.updateTime, b.doc.updateTime));
      for (const change of changes) {
        try {
          const run = fromFirestoreRun(change.doc.data());
          if (initial && Date.parse(run.updatedAt) < startMs) continue;
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
