/**
 * The RunStore contract for watch (registered by run-store.contract.ts, so
 * every adapter runs it): changes made after the call are delivered in commit
 * order until unsubscribed, to each watcher. Uses the store's own clock, as a
 * dashboard would.
 */
import assert from 'node:assert/strict';
import type { RunChange, RunStore } from '@recdeploy/shared';
import { sampleIdentity } from '../fixtures/runs.js';
import { RUN } from './run-store-contract.support.js';

/**
 * How long a watch may take to deliver. Generous because the Firestore
 * emulator (a JVM) was once seen to take more than 5 s under a loaded full run
 * in CI, while it delivers in milliseconds when run alone.
 */
const WATCH_WAIT_MS = 15_000;

/** Polls `check` until it passes or `ms` run out (watch delivery is asynchronous). */
async function eventually(check: () => void, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** `watchSettleMs`: see ContractOptions in run-store.contract.ts. */
export function watchContract(
  getStore: () => RunStore,
  options: { readonly watchSettleMs?: number },
): void {
  const settleWatch = (): Promise<void> =>
    new Promise((resolve) => setTimeout(resolve, options.watchSettleMs ?? 0));
  // The store of the current test (the entry's beforeEach made it just before).
  let store: RunStore;
  beforeEach(() => {
    store = getStore();
  });

  describe('watch', () => {
    it('delivers changes made after the call, not before, until unsubscribed', async () => {
      await store.createRun(sampleIdentity({ trainingRunId: 'before' }));
      await new Promise((resolve) => setTimeout(resolve, 10));
      const seen: RunChange[] = [];
      const unsubscribe = store.watch((change) => seen.push(change));
      await settleWatch();
      await store.createRun(sampleIdentity());
      await store.claimStep({ runId: RUN, step: 'register', owner: 'a', leaseMs: 60_000 });
      await store.completeStep({ runId: RUN, step: 'register', owner: 'a' });
      await eventually(() => assert.equal(seen.at(-1)?.run.status, 'registered'), WATCH_WAIT_MS);
      assert.ok(
        seen.every((c) => c.run.runId === RUN),
        'the run written before watch() is not delivered',
      );
      const statuses = seen.map((c) => c.run.status);
      assert.deepEqual(statuses, [...statuses].sort(byChain), 'in commit order');

      unsubscribe();
      const count = seen.length;
      await store.transition({ runId: RUN, to: 'skipped' });
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal(seen.length, count, 'nothing after unsubscribe');
    });

    it('delivers to several watchers independently', async () => {
      const first: string[] = [];
      const second: string[] = [];
      const stopFirst = store.watch((c) => first.push(c.run.status));
      const stopSecond = store.watch((c) => second.push(c.run.status));
      await settleWatch();
      await store.createRun(sampleIdentity());
      await eventually(() => {
        assert.deepEqual(first, ['received']);
        assert.deepEqual(second, ['received']);
      }, WATCH_WAIT_MS);
      stopFirst();
      stopSecond();
    });
  });
}

const CHAIN = ['received', 'registering', 'registered'];
function byChain(a: string, b: string): number {
  return CHAIN.indexOf(a) - CHAIN.indexOf(b);
}
