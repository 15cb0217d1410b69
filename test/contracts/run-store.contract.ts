/**
 * The RunStore contract: one suite, written against the port only, that every
 * adapter runs (SQLite files always, Firestore where an emulator is reachable).
 * Times are passed explicitly (`now`) except in the watch tests, which use the
 * store's own clock as a dashboard would. Its parts are the
 * run-store-*.contract.ts files beside this one; this registers them, in order.
 */
import type { RunStore } from '@recdeploy/shared';
import { runStepsContract } from './run-store-steps.contract.js';
import { runStatusContract } from './run-store-status.contract.js';
import { leasesContract } from './run-store-leases.contract.js';
import { servingContract } from './run-store-serving.contract.js';
import { canaryContract } from './run-store-canary.contract.js';
import { retryContract } from './run-store-retry.contract.js';
import { rejectedEventsContract } from './run-store-rejected.contract.js';
import { freshnessAlertsContract } from './run-store-freshness.contract.js';
import { watchContract } from './run-store-watch.contract.js';

/** A store under test and how to dispose of it. */
export interface StoreUnderTest {
  readonly store: RunStore;
  readonly cleanup: () => Promise<void>;
}

/** What an adapter's test environment needs from the suite. */
export interface ContractOptions {
  /**
   * How long the watch tests wait between watch() and their first write.
   * Zero for a store that keeps the promise for writes racing the call. The
   * Firestore emulator does not: a listener whose registration overlaps a
   * commit can miss that document for good (measured with the raw client, two
   * listeners per write: 4 of 300 writes within ~10 ms of onSnapshot were never
   * delivered to one of them, its first snapshot empty with a read time after
   * the commit). Real Firestore serves a listener a consistent snapshot at its
   * read time, so that race is the emulator's, and the suite waits it out.
   */
  readonly watchSettleMs?: number;
}

/** Registers the contract suite for one adapter. */
export function runStoreContract(
  name: string,
  makeStore: () => Promise<StoreUnderTest>,
  options: ContractOptions = {},
): void {
  describe(`RunStore contract: ${name}`, function () {
    let store: RunStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await makeStore());
    });
    afterEach(async () => {
      await cleanup();
    });

    const getStore = () => store;
    runStepsContract(getStore);
    runStatusContract(getStore);
    leasesContract(getStore);
    servingContract(getStore);
    canaryContract(getStore);
    retryContract(getStore);
    rejectedEventsContract(getStore);
    freshnessAlertsContract(getStore);
    watchContract(getStore, options);
  });
}
