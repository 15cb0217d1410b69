import { TransientError } from '../../errors.js';

/** SQLite codes of a lock held by another connection: worth waiting for. */
const LOCKED = /^SQLITE_(BUSY|LOCKED)/;
/** Codes of a store that cannot take writes now (locked, full, read-only, I/O): passing. */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|IOERR|FULL|CANTOPEN|READONLY)/;

/**
 * Runs `work` (synchronous better-sqlite3 calls) and settles a promise with
 * its outcome. While another process holds the lock, it tries again after
 * growing pauses (25 ms to 250 ms) for up to `waitMs`, without blocking the
 * event loop (the connection's own busy_timeout is kept short); a write
 * transaction that failed was rolled back, so running it again is safe. A
 * store that stays locked, or is full, read-only or failing, becomes the
 * passing TransientError 'STORE.UNAVAILABLE' (the delivery is retried);
 * anything else (domain errors) passes as it is.
 */
export async function settleWhileBusy<T>(work: () => T, waitMs: number): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (let pause = 25; ; pause = Math.min(pause * 2, 250)) {
    try {
      return work();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && LOCKED.test(code) && Date.now() + pause < deadline) {
        await new Promise((resolve) => setTimeout(resolve, pause));
        continue;
      }
      if (typeof code === 'string' && UNAVAILABLE.test(code)) {
        throw new TransientError('STORE.UNAVAILABLE', `run store: ${String(error)}`, {
          cause: error,
          metadata: { sqliteCode: code },
        });
      }
      throw error instanceof Error ? error : new Error(String(error));
    }
  }
}
