import type { Firestore, Transaction } from '@google-cloud/firestore';
import { RecdeployError } from '../../errors.js';

type Outcome<R> =
  { readonly ok: true; readonly value: R } | { readonly ok: false; readonly error: RecdeployError };

/**
 * Runs a domain decision inside a Firestore transaction. The domain's
 * refusals (RecdeployErrors such as RUN.LEASE_LOST) leave the transaction as
 * values and are thrown after it: thrown inside, they would roll it back and
 * could be mistaken for a retryable Firestore error, and a refusal is an
 * answer. The callback must have no side effects: the client re-runs it on
 * contention.
 */
export async function decideInTransaction<R>(
  client: Firestore,
  work: (tx: Transaction) => Promise<R>,
): Promise<R> {
  const outcome = await client.runTransaction(async (tx): Promise<Outcome<R>> => {
    try {
      return { ok: true, value: await work(tx) };
    } catch (error) {
      if (error instanceof RecdeployError) return { ok: false, error };
      throw error;
    }
  });
  if (!outcome.ok) throw outcome.error;
  return outcome.value;
}
