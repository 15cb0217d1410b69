import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { isProcessAlive } from './local-revision-process.js';
import { writeTransaction } from './sqlite-database.js';

/**
 * Who holds an in-flight delivery's lease: the process and the bus instance
 * in it. The pid alone is not enough: a restarted stack can get the pid its
 * killed predecessor had (a container's stack is often pid 1), and one
 * process may open several buses on one file (tests do).
 */
export interface LeaseOwner {
  readonly pid: number;
  readonly instance: string;
}

/** The buses open in this process; a lease of this pid held by any other instance is orphaned. */
const openInstances = new Set<string>();

/** A new identity for a bus opened in this process, alive until `retireLeaseOwner`. */
export function newLeaseOwner(): LeaseOwner {
  const owner = { pid: process.pid, instance: randomUUID() };
  openInstances.add(owner.instance);
  return owner;
}

/** The bus closed: its leases (none should be left; stop releases them) count as orphaned. */
export function retireLeaseOwner(owner: LeaseOwner): void {
  openInstances.delete(owner.instance);
}

/**
 * Whether the holder of a lease may still answer. Errs towards "alive": a pid
 * reused by an unrelated process keeps the lease until it runs out (late, never
 * a premature duplicate), as before owners were recorded.
 */
function holderAlive(holder: LeaseOwner): boolean {
  if (holder.pid === process.pid) return openInstances.has(holder.instance);
  return isProcessAlive(holder.pid);
}

/**
 * Makes every delivery whose lease is held by a process that is gone due at
 * `now`, and returns how many. A bus calls it when it starts delivering, so a
 * message that was in flight when its previous owner was killed is pushed
 * again at once instead of after the ack deadline (which is also the push
 * timeout and may be minutes).
 *
 * Why by owner and not "release every lease not mine": the file may be shared
 * (the CLI publishes into the stack's bus; tests run buses side by side), and
 * taking over a live owner's delivery would push it twice while the first
 * attempt is still being answered. Only a dead owner's leases are certain to
 * get no verdict. The local stack's lock (one stack per data directory) makes
 * the stack's bus the only delivering owner, so there nothing live is skipped.
 *
 * The interrupted attempt still counts (as an expired ack deadline does in
 * Pub/Sub): the receiver may have acted on it, and a message that kills its
 * receiver every time must still reach the dead-letter state.
 */
export function releaseLeasesOfDeadOwners(
  db: Database.Database,
  self: LeaseOwner,
  now: number,
): number {
  return writeTransaction(db, () => {
    const holders = db
      .prepare(
        `SELECT DISTINCT lease_pid AS pid, lease_owner AS instance FROM bus_deliveries
         WHERE state = 'pending' AND lease_owner IS NOT NULL AND lease_owner != ?
           AND next_attempt_at > ?`,
      )
      .all(self.instance, now) as LeaseOwner[];
    const release = db.prepare(
      `UPDATE bus_deliveries SET next_attempt_at = @now, lease_pid = NULL, lease_owner = NULL
       WHERE state = 'pending' AND lease_owner = @instance AND next_attempt_at > @now`,
    );
    let released = 0;
    for (const holder of holders) {
      if (!holderAlive(holder)) released += release.run({ now, instance: holder.instance }).changes;
    }
    return released;
  });
}
