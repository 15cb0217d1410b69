/**
 * One RunStore.watch() shared by every open event stream, held only while at
 * least one stream is open: with Firestore each watch is a listener that
 * bills reads, and the dashboard is mostly idle.
 */
import type { Logger, RunDocument, RunStore, Unsubscribe } from '@recdeploy/shared';

export type RunListener = (run: RunDocument) => void;

export class RunBroadcaster {
  private readonly listeners = new Set<RunListener>();
  private unwatch: Unsubscribe | undefined;

  constructor(
    private readonly store: RunStore,
    private readonly logger: Logger,
  ) {}

  /** Open subscriptions. */
  get size(): number {
    return this.listeners.size;
  }

  /** Calls `listener` with every run changed after this call, until the returned function is called. */
  subscribe(listener: RunListener): Unsubscribe {
    this.listeners.add(listener);
    if (this.unwatch === undefined) {
      this.unwatch = this.store.watch((change) => this.publish(change.run));
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
    this.logger.debug('stopped watching the run store');
  }

  private publish(run: RunDocument): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(run);
      } catch (error) {
        // One broken stream must not starve the others.
        this.logger.warn('a run listener failed', { runId: run.runId, error: String(error) });
      }
    }
  }
}
