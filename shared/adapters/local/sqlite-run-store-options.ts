/** How the embedded run store (sqlite-run-store.ts) is set up. */
import type { Logger } from '../../logging/logger.port.js';

/** Options of the embedded run store. */
export interface SqliteRunStoreOptions {
  /** The SQLite file (created with its folder if missing). */
  readonly file: string;
  /** Defaults to the system clock; a write's `now` overrides it. */
  readonly clock?: () => Date;
  /** How often watch() polls the change log. @defaultValue 200 ms */
  readonly pollIntervalMs?: number;
  /** Rejected events kept in all, newest first: a backstop behind the bounds per kind (200) and by age (30 days). @defaultValue 10,000 */
  readonly maxRejectedEvents?: number;
  /** Where watch() reports a listener that throws; without one, a process warning. */
  readonly logger?: Logger;
  /**
   * How long an operation keeps retrying while another process holds the
   * write lock, before it fails with STORE.UNAVAILABLE. @defaultValue 10 s
   */
  readonly busyWaitMs?: number;
}

/**
 * How long one SQLite call may block the event loop on a lock. Short: the
 * local stack runs the functions, the bus and the serving routers in one
 * process, and a store locked by another process must not stall predictions
 * (a 10 s busy_timeout did, 17 s for one request); the wait is taken in
 * asynchronous retries instead (settle).
 */
export const BLOCKING_BUSY_TIMEOUT_MS = 50;
