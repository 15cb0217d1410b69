/**
 * One RunStore.watch() shared by every open event stream, held only while at
 * least one stream is open: with Firestore each watch is a listener that
 * bills reads, and the dashboard is mostly idle. Every changed run goes out
 * as a `run` event, and a serving record that changed with it as a `serving`
 * event (serving-follower.ts).
 */
import type { Logger, RunDocument, RunStore, ServingRecord, Unsubscribe } from '@recdeploy/shared';
import { ServingFollower } from './serving-follower.js';

/** What the event streams carry, by event name. */
export type LiveEvent =
  | { readonly type: 'run'; readonly data: RunDocument }
  | { readonly type: 'serving'; readonly data: ServingRecord };

export type LiveListener = (event: LiveEvent) => void;

export class RunBroadcaster {
  private readonly listeners = new Set<LiveListener>();
  private readonly serving: ServingFollower;
  private unwatch: Unsubscribe | undefined;

  constructor(
    private readonly store: RunStore,
    private readonly logger: Logger,
  ) {
    this.serving = new ServingFollower(store, logger, (record) =>
      this.publish({ type: 'serving', data: record }),
    );
  }

  /** Open subscriptions. */
  get size(): number {
    return this.listeners.size;
  }

  /** Calls `listener` with every change after this call, until the returned function is called. */
  subscribe(listener: LiveListener): Unsubscribe {
    this.listeners.add(listener);
    if (this.unwatch === undefined) {
      this.unwatch = this.store.watch(({ run }) => {
        this.publish({ type: 'run', data: run });
        this.serving.follow(run);
      });
      this.logger.debug('watching the run store');
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stopWatching();
    };
  }

  /** Forgets every listener and stops watching. */
  close(): void {
    this.listeners.clear();
    this.stopWatching();
  }

  private stopWatching(): void {
    if (this.unwatch === undefined) return;
    this.unwatch();
    this.unwatch = undefined;
    this.serving.reset();
    this.logger.debug('stopped watching the run store');
  }

  private publish(event: LiveEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        // One broken stream must not starve the others.
        this.logger.warn('a live listener failed', { event: event.type, error: String(error) });
      }
    }
  }
}
