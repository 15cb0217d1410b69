/**
 * The RunStore contract against FirestoreRunStore, through the real client
 * over gRPC to a Firestore emulator. Runs only where FIRESTORE_EMULATOR_HOST
 * is set (e.g. `gcloud emulators firestore start --host-port=127.0.0.1:8686`);
 * otherwise the suite reports itself skipped with that reason.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Firestore } from '@google-cloud/firestore';
import { FirestoreRunStore } from '@recdeploy/shared/gcp';
import { runStoreContract } from '../contracts/run-store.contract.js';
import { T0, sampleIdentity } from '../fixtures/runs.js';

const PROJECT = 'demo-recdeploy-test';

describe('FirestoreRunStore contract (needs FIRESTORE_EMULATOR_HOST; skipped without it)', function () {
  let firestore: Firestore;
  // Every store gets its own collections, so tests never see each other's data.
  const prefix = `t${randomUUID().slice(0, 8)}`;
  let storeCount = 0;
  const makeStore = (): { store: FirestoreRunStore; collection: string } => {
    const n = ++storeCount;
    const collection = `${prefix}-${n}-deployments`;
    const store = new FirestoreRunStore({
      firestore,
      collection,
      leaseCollection: `${prefix}-${n}-leases`,
      rejectedCollection: `${prefix}-${n}-rejected`,
      servingCollection: `${prefix}-${n}-serving`,
      freshnessCollection: `${prefix}-${n}-freshness`,
    });
    return { store, collection };
  };

  before(function () {
    if (!process.env.FIRESTORE_EMULATOR_HOST) this.skip();
    firestore = new Firestore({ projectId: PROJECT });
  });
  after(async () => {
    if (firestore === undefined) return;
    await firestore.terminate();
    // Drop what the suite wrote (the emulator's own reset endpoint).
    const host = process.env.FIRESTORE_EMULATOR_HOST ?? '';
    await fetch(`http://${host}/emulator/v1/projects/${PROJECT}/databases/(default)/documents`, {
      method: 'DELETE',
    }).catch(() => undefined);
  });

  runStoreContract(
    'FirestoreRunStore (emulator)',
    () => {
      const { store } = makeStore();
      return Promise.resolve({ store, cleanup: () => store.close() });
    },
    // The emulator can lose a write that races a listener's registration
    // (ContractOptions.watchSettleMs); a loaded CI run once lost one this way.
    { watchSettleMs: 1_000 },
  );

  describe('Firestore specifics', () => {
    it('20 concurrent deliveries of one claim through transactions: one claimed', async function () {
      this.timeout(60_000);
      const { store } = makeStore();
      try {
        const { run } = await store.createRun(sampleIdentity(), { now: T0 });
        const kinds = await Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            const owner = `instance-${i}`;
            const claim = await store.claimStep({
              runId: run.runId,
              step: 'register',
              owner,
              leaseMs: 60_000,
              eventId: 'evt-1',
            });
            if (claim.kind === 'claimed')
              await store.completeStep({ runId: run.runId, step: 'register', owner });
            return claim.kind;
          }),
        );
        assert.equal(kinds.filter((k) => k === 'claimed').length, 1, kinds.join());
        const stored = await store.getRun(run.runId);
        assert.deepEqual(
          stored?.history.map((h) => h.to),
          ['received', 'registering', 'registered'],
        );
      } finally {
        await store.close();
      }
    });

    it('stores the DESIGN.md §4 layout: doc id = runId, Timestamps, camelCase', async () => {
      const { store, collection } = makeStore();
      try {
        const { run } = await store.createRun(sampleIdentity(), { now: T0 });
        const raw = (await firestore.collection(collection).doc(run.runId).get()).data();
        assert.equal(raw?.runId, run.runId);
        assert.equal(raw?.modelEndpointId, 'recs-home');
        assert.equal((raw?.createdAt as { toMillis(): number }).toMillis(), T0.getTime());
      } finally {
        await store.close();
      }
    });
  });
});
