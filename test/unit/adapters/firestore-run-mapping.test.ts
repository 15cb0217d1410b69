import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Timestamp, type DocumentData } from '@google-cloud/firestore';
import {
  RUN_LIMITS,
  RecdeployError,
  decideClaimStep,
  decideFailStep,
  decideTransition,
  estimateStoredBytes,
  type RunDocument,
} from '@recdeploy/shared';
import {
  documentId,
  fromFirestoreLease,
  fromFirestoreRejected,
  fromFirestoreRun,
  toFirestoreLease,
  toFirestoreRejected,
  toFirestoreRun,
  toTimestamp,
} from '@recdeploy/shared/gcp';
import { T0, at } from '../../fixtures/runs.js';
import { newRun, must } from '../domain/run-decisions.js';

const RUN = 'recs-home-train-001';

/** A run with every optional part filled: completedAt, a lease, errors, patches. */
function fullRun(): RunDocument {
  let doc = newRun({
    completedAt: '2029-12-31T23:59:59.999Z',
    deploymentConfig: { memory: '2Gi', public: true },
  });
  doc = must(
    decideClaimStep(
      doc,
      { runId: RUN, step: 'register', owner: 'a', leaseMs: 60_000 },
      { now: at(1_001) },
    ).write,
  );
  doc = must(
    decideFailStep(
      doc,
      {
        runId: RUN,
        step: 'register',
        owner: 'a',
        permanent: false,
        error: { code: 'X', message: 'flaky' },
      },
      { now: at(2_002) },
    ).write,
  );
  doc = must(
    decideClaimStep(
      doc,
      { runId: RUN, step: 'register', owner: 'b', leaseMs: 60_000 },
      { now: at(3_003), eventId: 'evt-3' },
    ).write,
  );
  return {
    ...doc,
    registry: { model: 'projects/p/locations/l/models/m', version: '4' },
    serving: {
      runtime: 'ann-serving',
      service: 'recs-home',
      revision: 'r1',
      url: 'https://x',
      tagUrl: 'https://t---x',
    },
    verification: {
      checks: [{ name: 'smoke', passed: true, detail: 'k=10' }],
      latencyP50Ms: 3.5,
      recallAtK: { k: 100, recall: 0.98 },
    },
  };
}

function undefinedPaths(value: unknown, path = ''): string[] {
  if (value === undefined) return [path];
  if (value === null || typeof value !== 'object' || value instanceof Timestamp) return [];
  return Object.entries(value).flatMap(([k, v]) => undefinedPaths(v, `${path}.${k}`));
}

describe('Firestore run mapping', () => {
  it('turns every time field into a Timestamp, nested ones included', () => {
    const data = toFirestoreRun(fullRun());
    const steps = data.steps as Record<string, DocumentData>;
    const register = must(steps.register);
    const times: unknown[] = [
      data.createdAt,
      data.updatedAt,
      data.completedAt,
      register.startedAt,
      (register.lease as DocumentData).expiresAt,
      ...(data.history as DocumentData[]).map((h): unknown => h.at),
    ];
    for (const time of times) assert.ok(time instanceof Timestamp, String(time));
    assert.equal((data.createdAt as Timestamp).toMillis(), T0.getTime());
    assert.equal(typeof data.statusReason, 'undefined');
    assert.equal(typeof register.error, 'object', 'nested maps stay maps');
    assert.deepEqual(data.serving, fullRun().serving);
  });

  it('round-trips a run exactly', () => {
    const run = fullRun();
    assert.deepEqual(fromFirestoreRun(toFirestoreRun(run)), run);
  });

  it('round-trips any millisecond time exactly', () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date('1970-01-01T00:00:00Z'),
          max: new Date('9999-12-31T23:59:59Z'),
          noInvalidDate: true,
        }),
        (date) => {
          const iso = date.toISOString();
          const back = fromFirestoreRun(toFirestoreRun({ ...fullRun(), updatedAt: iso })).updatedAt;
          assert.equal(back, iso);
        },
      ),
    );
  });

  it('drops undefined fields at every depth', () => {
    const run: RunDocument = {
      ...fullRun(),
      statusReason: undefined,
      registry: undefined,
      steps: {
        ...fullRun().steps,
        deploy: { status: 'pending', attempts: 0, error: undefined, lease: undefined },
      },
      verification: {
        checks: [{ name: 'c', passed: false, detail: undefined }],
        latencyP99Ms: undefined,
      },
    };
    const data = toFirestoreRun(run);
    assert.deepEqual(undefinedPaths(data), []);
    assert.equal('registry' in data, false);
  });

  it('keeps a worst-case bounded document far below 1 MiB', () => {
    let doc = newRun();
    const huge = 'é'.repeat(50_000);
    for (let i = 0; i < 200; i += 1) {
      const owner = `owner-${i}-${huge.slice(0, 100)}`;
      doc = must(
        decideClaimStep(
          doc,
          { runId: RUN, step: 'register', owner, leaseMs: 1 },
          { now: at(i * 10), eventId: `evt-${i}` },
        ).write,
      );
      doc = must(
        decideFailStep(
          doc,
          {
            runId: RUN,
            step: 'register',
            owner,
            permanent: false,
            error: { code: huge, message: huge },
          },
          { now: at(i * 10 + 5) },
        ).write,
      );
    }
    const checks = Array.from({ length: 1_000 }, (_, i) => ({
      name: `check-${i}`,
      passed: true,
      detail: huge,
    }));
    doc = must(
      decideTransition(
        doc,
        { runId: RUN, to: 'failed', reason: huge, patch: { verification: { checks } } },
        { now: at(9_999) },
      ).write,
    );
    const data = toFirestoreRun(doc);
    assert.equal((data.history as unknown[]).length, RUN_LIMITS.historyEntries);
    const error = must(doc.steps.register.error);
    assert.equal(error.message.length, RUN_LIMITS.errorMessageChars);
    assert.equal(error.code.length, RUN_LIMITS.errorCodeChars);
    assert.ok(must(doc.statusReason).length <= RUN_LIMITS.statusReasonChars);
    const bytes = estimateStoredBytes(doc);
    assert.ok(bytes < RUN_LIMITS.documentBytes, `${bytes} bytes`);
    assert.ok(bytes < 1_048_576 / 4);
  });

  it('refuses a document over the size bound with RUN.TOO_LARGE', () => {
    const metrics = Object.fromEntries(Array.from({ length: 30_000 }, (_, i) => [`m${i}`, i]));
    assert.throws(
      () => toFirestoreRun({ ...fullRun(), metrics }),
      (error: unknown) =>
        error instanceof RecdeployError && error.code === 'RUN.TOO_LARGE' && !error.retryable,
    );
  });

  it('refuses a malformed stored document instead of guessing', () => {
    assert.throws(() => fromFirestoreRun({ runId: RUN, status: 'exploded' }), /malformed/);
    assert.throws(() => fromFirestoreRun({ status: 'live' }), /malformed/);
  });

  it('maps leases and rejected events, adding expireAt for a TTL policy', () => {
    const lease = {
      service: 's',
      runId: RUN,
      acquiredAt: T0.toISOString(),
      expiresAt: at(5).toISOString(),
    };
    assert.ok(toFirestoreLease(lease).expiresAt instanceof Timestamp);
    assert.deepEqual(fromFirestoreLease(toFirestoreLease(lease)), lease);
    const rejected = {
      eventId: 'e',
      code: 'EVENT.INVALID',
      reason: 'bad',
      receivedAt: T0.toISOString(),
    };
    const data = toFirestoreRejected({ ...rejected, source: undefined });
    assert.equal((data.expireAt as Timestamp).toMillis(), T0.getTime() + 30 * 24 * 3600 * 1000);
    assert.deepEqual(undefinedPaths(data), []);
    assert.deepEqual(fromFirestoreRejected(data), rejected);
  });

  it('makes document ids that cannot nest a path', () => {
    assert.equal(documentId('recs-home-train_001'), 'recs-home-train_001');
    assert.equal(documentId('a/b'), 'a%2Fb');
    assert.throws(() => toTimestamp('not a time'), /not a time/);
  });
});
