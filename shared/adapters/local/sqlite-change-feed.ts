import type Database from 'better-sqlite3';
import type { RunDocument } from '../../domain/run-document.js';
import type { RunChange, Unsubscribe } from '../../ports/run-store.port.js';

/** Change-log rows kept; a watcher further behind than this misses the oldest. */
export const CHANGE_LOG_ROWS = 10_000;

interface Subscriber {
  readonly listener: (change: RunChange) => void;
  cursor: number;
}

/**
 * watch() for the SQLite run store: polls the run_changes log, so it sees
 * writes made by any process on the same file, and delivers each change once
 * per subscriber in commit (seq) order. Writes made through this process's
 * store nudge it, so local watchers do not wait for the next poll.
 */
export class SqliteChangeFeed {
  private readonly subscribers = new Set<Subscriber>();
  private timer: NodeJS.Timeout | undefined;
  private nudged = false;
  private readonly newestSeq: Database.Statement<[], { seq: number | null }>;
  private readonly changesAfter: Database.Statement<[number], { seq: number; doc: string }>;

  constructor(
    db: Database.Database,
    private readonly pollIntervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {
    this.newestSeq = db.prepare('SELECT MAX(seq) AS seq FROM run_changes');
    this.changesAfter = db.prepare(
      'SELECT seq, doc FROM run_changes WHERE seq > ? ORDER BY seq LIMIT 1000',
    );
  }

  /** Delivers every change committed after this call. */
  subscribe(listener: (change: RunChange) => void): Unsubscribe {
    const subscriber: Subscriber = { listener, cursor: this.newestSeq.get()?.seq ?? 0 };
    this.subscribers.add(subscriber);
    // unref: a watcher alone must not keep a process (or a test run) alive.
    this.timer ??= setInterval(() => this.poll(), this.pollIntervalMs).unref();
    return () => {
      this.subscribers.delete(subscriber);
      if (this.subscribers.size === 0) this.stop();
    };
  }

  /** Polls soon after a local write instead of at the next tick of the timer. */
  nudge(): void {
    if (this.subscribers.size === 0 || this.nudged) return;
    this.nudged = true;
    setImmediate(() => {
      this.nudged = false;
      this.poll();
    });
  }

  /** Stops polling and forgets every subscriber. */
  stop(): void {
    this.subscribers.clear();
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  private poll(): void {
    if (this.subscribers.size === 0) return;
    try {
      const from = Math.min(...[...this.subscribers].map((s) => s.cursor));
      const rows = this.changesAfter.all(from);
      for (const row of rows) {
        const change: RunChange = { run: JSON.parse(row.doc) as RunDocument };
        for (const subscriber of this.subscribers) {
          if (row.seq <= subscriber.cursor) continue;
          subscriber.cursor = row.seq;
          this.deliver(subscriber, change);
        }
      }
      if (rows.length === 1000) this.nudge();
    } catch (error) {
      // The database may be closed or busy; the next poll tries again.
      this.onError(error);
    }
  }

  private deliver(subscriber: Subscriber, change: RunChange): void {
    try {
      subscriber.listener(change);
    } catch (error) {
      this.onError(error);
    }
  }
}
