/**
 * The serving record and the run moves it decides (shared/domain/serving-record.ts,
 * DESIGN.md §4 "Convergence and truth"): what the platform observes decides
 * which run is live; at most one run per service is.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  RecdeployError,
  decideFailStep,
  decideServingChange,
  sameServing,
  servingLookup,
  trafficPercent,
  type CompleteStepRequest,
  type ObservedTraffic,
  type RecordServingRequest,
  type RunDocument,
  type ServingDecision,
  type ServingRecord,
} from '@recdeploy/shared';
import { at, deployedTo, observedTraffic, registeredAs } from '../../fixtures/runs.js';
import { claimed, errorOf, must, newRun, walk } from './run-decisions.js';

const SERVICE = 'recs-home';
const ENDPOINT = 'recs-home';
const REV_A = 'recs-home-00001-a';
const REV_B = 'recs-home-00002-b';
const URL = `https://${SERVICE}.example.run.app`;

/** A run of the endpoint walked through `steps`, deployed as `revision` of `service`. */
function runOf(
  trainingRunId: string,
  runNumber: number,
  revision: string,
  steps: readonly ('register' | 'deploy' | 'verify')[],
  service = SERVICE,
): RunDocument {
  return walk(newRun({ trainingRunId, runNumber }), steps, {
    patches: { register: registeredAs(runNumber), deploy: deployedTo(service, revision) },
  });
}

/** Run A (older) live on REV_A, run B (newer) in verifying on REV_B held by 'verifier'. */
function liveAndVerifying(): { a: RunDocument; b: RunDocument } {
  const a = runOf('a', 1, REV_A, ['register', 'deploy', 'verify']);
  const b = claimed(runOf('b', 2, REV_B, ['register', 'deploy']), 'verify', 'verifier', at(500));
  return { a, b };
}

const request = (
  observed: ObservedTraffic,
  cause: string,
  complete?: CompleteStepRequest,
): RecordServingRequest => ({
  service: SERVICE,
  modelEndpointId: ENDPOINT,
  observed,
  cause,
  ...(complete === undefined ? {} : { complete }),
});

const completeVerify = (runId: string, owner = 'verifier'): CompleteStepRequest => ({
  runId,
  step: 'verify',
  owner,
});

/** Applies a decision to a set of runs the way a store's transaction does. */
function applied(runs: readonly RunDocument[], decision: ServingDecision): RunDocument[] {
  const byId = new Map(runs.map((run) => [run.runId, run]));
  for (const run of decision.runWrites) byId.set(run.runId, run);
  return [...byId.values()];
}

const byId = (runs: readonly RunDocument[], runId: string): RunDocument =>
  must(
    runs.find((run) => run.runId === runId),
    runId,
  );

describe('decideServingChange', () => {
  it('a first observation creates the record; the live run that serves is left as it is', () => {
    const { a, b } = liveAndVerifying();
    const decision = decideServingChange(
      undefined,
      [a, b],
      request(observedTraffic(SERVICE, { [REV_A]: 100 }), 'start-up observation'),
      { now: at(1_000) },
    );
    const expected: ServingRecord = {
      service: SERVICE,
      modelEndpointId: ENDPOINT,
      serviceUrl: URL,
      liveRevision: REV_A,
      liveRunId: a.runId,
      traffic: [{ revision: REV_A, percent: 100, runId: a.runId }],
      since: at(1_000).toISOString(),
      cause: 'start-up observation',
      observedAt: at(1_000).toISOString(),
    };
    assert.deepEqual(decision.record, expected);
    assert.deepEqual(decision.result.record, expected);
    assert.deepEqual(decision.runWrites, []);
    assert.deepEqual(decision.result.changedRuns, []);
  });

  describe('promotion of a newer run with verify completed in the same decision', () => {
    function promoted() {
      const { a, b } = liveAndVerifying();
      const first = decideServingChange(
        undefined,
        [a, b],
        request(observedTraffic(SERVICE, { [REV_A]: 100 }), 'observed'),
        { now: at(1_000) },
      );
      const record = must(first.record);
      const decision = decideServingChange(
        record,
        [a, b],
        request(
          observedTraffic(SERVICE, { [REV_B]: 100 }),
          'promote after verification',
          completeVerify(b.runId),
        ),
        { now: at(2_000), eventId: 'evt-verify' },
      );
      return { a, b, record, decision, runs: applied([a, b], decision) };
    }

    it('leaves exactly one live run: the newer one', () => {
      const { a, b, runs } = promoted();
      assert.deepEqual(
        runs.filter((run) => run.status === 'live').map((run) => run.runId),
        [b.runId],
      );
      assert.equal(byId(runs, a.runId).status, 'replaced');
    });

    it('marks the older run replaced, by the newer one, with a reason and a history line', () => {
      const { a, b, runs } = promoted();
      const old = byId(runs, a.runId);
      assert.equal(old.replacedBy, b.runId);
      assert.match(old.statusReason ?? '', new RegExp(`${b.runId}.*${REV_B}`));
      assert.deepEqual(
        { ...old.history.at(-1), reason: undefined },
        {
          at: at(2_000).toISOString(),
          from: 'live',
          to: 'replaced',
          eventId: 'evt-verify',
          reason: undefined,
        },
      );
      assert.equal(old.updatedAt, at(2_000).toISOString());
    });

    it("completes the newer run's verify step and moves it to live", () => {
      const { b, runs } = promoted();
      const done = byId(runs, b.runId);
      assert.equal(done.steps.verify.status, 'succeeded');
      assert.equal(done.steps.verify.endedAt, at(2_000).toISOString());
      assert.equal(done.steps.verify.lease, undefined);
      assert.deepEqual(
        done.history.slice(-1).map((h) => [h.from, h.to]),
        [['verifying', 'live']],
      );
      assert.equal(done.replacedBy, undefined);
    });

    it('records the new live revision, since when, and the previous one until when', () => {
      const { a, b, decision } = promoted();
      assert.deepEqual(decision.record, {
        service: SERVICE,
        modelEndpointId: ENDPOINT,
        serviceUrl: URL,
        liveRevision: REV_B,
        liveRunId: b.runId,
        traffic: [{ revision: REV_B, percent: 100, runId: b.runId }],
        since: at(2_000).toISOString(),
        previous: { revision: REV_A, runId: a.runId, until: at(2_000).toISOString() },
        cause: 'promote after verification',
        observedAt: at(2_000).toISOString(),
      });
    });

    it('reports the changed runs as written', () => {
      const { a, b, decision } = promoted();
      assert.deepEqual(decision.result.changedRuns, decision.runWrites);
      assert.deepEqual(
        decision.runWrites.map((run) => run.runId).sort(),
        [a.runId, b.runId].sort(),
      );
    });

    it('then a rollback to the older revision: it is live again, the newer one rolled_back', () => {
      const { a, b, decision, runs } = promoted();
      const rollback = decideServingChange(
        must(decision.record),
        runs,
        request(observedTraffic(SERVICE, { [REV_A]: 100 }), 'rollback by alice'),
        { now: at(3_000) },
      );
      const after = applied(runs, rollback);
      const back = byId(after, a.runId);
      assert.equal(back.status, 'live');
      assert.equal(back.replacedBy, undefined, 'no longer replaced');
      assert.equal(back.statusReason, undefined, 'the replaced reason no longer holds');
      assert.deepEqual([back.history.at(-1)?.from, back.history.at(-1)?.to], ['replaced', 'live']);
      const newer = byId(after, b.runId);
      assert.equal(newer.status, 'rolled_back');
      assert.equal(newer.replacedBy, undefined, 'an older run does not replace');
      assert.match(newer.statusReason ?? '', /rollback by alice/);
      assert.deepEqual(
        after.filter((run) => run.status === 'live').map((run) => run.runId),
        [a.runId],
      );
      assert.equal(rollback.record?.liveRunId, a.runId);
      assert.equal(rollback.record?.since, at(3_000).toISOString());
      assert.deepEqual(rollback.record?.previous, {
        revision: REV_B,
        runId: b.runId,
        until: at(3_000).toISOString(),
      });
    });
  });

  it('an observed revision that no run deployed rolls the live run back', () => {
    const { a, b } = liveAndVerifying();
    const decision = decideServingChange(
      undefined,
      [a, b],
      request(observedTraffic(SERVICE, { 'recs-home-manual': 100 }), 'reconciler'),
      { now: at(1_000) },
    );
    const runs = applied([a, b], decision);
    assert.equal(byId(runs, a.runId).status, 'rolled_back');
    assert.equal(byId(runs, a.runId).replacedBy, undefined);
    assert.match(byId(runs, a.runId).statusReason ?? '', /recs-home-manual/);
    assert.equal(byId(runs, b.runId).status, 'verifying', 'a run that was not live is untouched');
    assert.deepEqual(
      decision.runWrites.map((run) => run.runId),
      [a.runId],
    );
    assert.equal(decision.record?.liveRevision, 'recs-home-manual');
    assert.equal(decision.record?.liveRunId, undefined);
    assert.deepEqual(decision.record?.traffic, [{ revision: 'recs-home-manual', percent: 100 }]);
  });

  it('a live newer run loses traffic to an older run: rolled_back, not replaced', () => {
    const older = runOf('a', 1, REV_A, ['register', 'deploy', 'verify']);
    const newer = runOf('b', 2, REV_B, ['register', 'deploy', 'verify']);
    const decision = decideServingChange(
      undefined,
      [older, newer],
      request(observedTraffic(SERVICE, { [REV_A]: 100 }), 'rollback'),
      { now: at(1_000) },
    );
    const runs = applied([older, newer], decision);
    assert.equal(byId(runs, newer.runId).status, 'rolled_back');
    assert.equal(byId(runs, older.runId).status, 'live');
  });

  it('a repeat observation writes nothing and answers the stored record unchanged', () => {
    const { a, b } = liveAndVerifying();
    const observed = observedTraffic(SERVICE, { [REV_A]: 100 });
    const first = decideServingChange(undefined, [a, b], request(observed, 'observed'), {
      now: at(1_000),
    });
    const record = must(first.record);
    const again = decideServingChange(record, [a, b], request(observed, 'reconciler'), {
      now: at(60_000),
    });
    assert.equal(again.record, undefined, 'no record write');
    assert.deepEqual(again.runWrites, []);
    // observedAt and cause stay those of the last change (see ServingRecord.observedAt).
    assert.deepEqual(again.result.record, record);
  });

  it('a canary split: the largest share serves; the record lists every share, largest first', () => {
    const { a, b } = liveAndVerifying();
    const decision = decideServingChange(
      undefined,
      [a, b],
      request(
        observedTraffic(SERVICE, { [REV_B]: 10, [REV_A]: 90 }, { tags: { [REV_B]: 'candidate' } }),
        'canary 10%',
      ),
      { now: at(1_000) },
    );
    assert.deepEqual(decision.runWrites, [], 'A stays live, B stays verifying');
    assert.equal(decision.record?.liveRevision, REV_A);
    assert.equal(decision.record?.liveRunId, a.runId);
    assert.deepEqual(decision.record?.traffic, [
      { revision: REV_A, percent: 90, runId: a.runId },
      { revision: REV_B, percent: 10, runId: b.runId, tag: 'candidate' },
    ]);
    assert.equal(trafficPercent(decision.record, REV_B), 10);
    assert.equal(trafficPercent(decision.record, REV_A), 90);
    assert.equal(trafficPercent(decision.record, 'other'), 0);
    assert.equal(trafficPercent(undefined, REV_A), 0);
    assert.equal(trafficPercent(decision.record, undefined), 0);
  });

  it("the platform's own live revision wins over the largest share", () => {
    const { a, b } = liveAndVerifying();
    const decision = decideServingChange(
      undefined,
      [a, b],
      request(observedTraffic(SERVICE, { [REV_A]: 40, [REV_B]: 60 }, { liveRevision: REV_A }), 'x'),
      { now: at(1_000) },
    );
    assert.equal(decision.record?.liveRevision, REV_A);
    assert.equal(decision.record?.liveRunId, a.runId);
    assert.deepEqual(decision.runWrites, [], 'A serves and stays live; B is still being verified');
  });

  it('traffic on a revision still being verified moves nothing: verify records both runs at once', () => {
    const { a, b } = liveAndVerifying();
    const decision = decideServingChange(
      undefined,
      [a, b],
      request(observedTraffic(SERVICE, { [REV_B]: 100 }), 'observed by the reconciler'),
      { now: at(1_000) },
    );
    // Demoting A now, with B not yet live, would leave the service no live run.
    assert.deepEqual(decision.runWrites, []);
    assert.equal(decision.record, undefined);
    assert.equal(byId(applied([a, b], decision), a.runId).status, 'live');
  });

  it('merges repeated targets of one revision and drops zero shares', () => {
    const { a, b } = liveAndVerifying();
    const observed: ObservedTraffic = {
      serviceUrl: URL,
      targets: [
        { revision: REV_A, percent: 50 },
        { revision: REV_B, percent: 0, tag: 'candidate' },
        { revision: REV_A, percent: 50, tag: 'stable' },
      ],
    };
    const decision = decideServingChange(undefined, [a, b], request(observed, 'x'), {
      now: at(1_000),
    });
    assert.deepEqual(decision.record?.traffic, [
      { revision: REV_A, percent: 100, runId: a.runId, tag: 'stable' },
    ]);
  });

  it('a traffic change without a new live revision keeps since and previous', () => {
    const { a, b } = liveAndVerifying();
    const first = must(
      decideServingChange(
        undefined,
        [a, b],
        request(observedTraffic(SERVICE, { [REV_A]: 100 }), 'observed'),
        { now: at(1_000) },
      ).record,
    );
    const canary = decideServingChange(
      first,
      [a, b],
      request(observedTraffic(SERVICE, { [REV_A]: 80, [REV_B]: 20 }), 'canary 20%'),
      { now: at(2_000) },
    );
    const record = must(canary.record, 'a written record (the shares changed)');
    assert.equal(record.since, at(1_000).toISOString());
    assert.equal(record.previous, undefined);
    assert.equal(record.observedAt, at(2_000).toISOString());
    assert.equal(record.cause, 'canary 20%');
    assert.equal(sameServing(first, record), false);
  });

  it("leaves the endpoint's runs on another service alone", () => {
    const { a } = liveAndVerifying();
    const elsewhere = runOf(
      'c',
      3,
      'recs-home-eu-00001-c',
      ['register', 'deploy', 'verify'],
      'recs-home-eu',
    );
    const decision = decideServingChange(
      undefined,
      [a, elsewhere],
      request(observedTraffic(SERVICE, { 'recs-home-manual': 100 }), 'x'),
      { now: at(1_000) },
    );
    assert.deepEqual(
      decision.runWrites.map((run) => run.runId),
      [a.runId],
    );
  });

  it("refuses verify's completion by an owner that lost the step, and decides nothing", () => {
    const { a, b } = liveAndVerifying();
    const error = errorOf(() =>
      decideServingChange(
        undefined,
        [a, b],
        request(
          observedTraffic(SERVICE, { [REV_B]: 100 }),
          'promote',
          completeVerify(b.runId, 'x'),
        ),
        { now: at(1_000) },
      ),
    );
    assert.equal(error.code, 'RUN.LEASE_LOST');
  });

  it("refuses verify's completion (retryable) until the platform shows its revision serving", () => {
    // DESIGN.md §4: at most one run per service is live, and going live means serving.
    // Otherwise verify's completion of B next to a live A would make two live runs.
    const { a, b } = liveAndVerifying();
    const notYet: [string, ObservedTraffic][] = [
      ['no traffic at all (read mid-reconciliation)', { serviceUrl: URL, targets: [] }],
      ['the old revision still serving', observedTraffic(SERVICE, { [REV_A]: 100 })],
      ['B only a canary share', observedTraffic(SERVICE, { [REV_A]: 90, [REV_B]: 10 })],
      ['a revision nobody deployed', observedTraffic(SERVICE, { 'recs-home-manual': 100 })],
    ];
    for (const [name, observed] of notYet) {
      const error = errorOf(() =>
        decideServingChange(
          undefined,
          [a, b],
          request(observed, 'promote', completeVerify(b.runId)),
          {
            now: at(1_000),
          },
        ),
      );
      assert.equal(error.code, 'PLATFORM.CONFLICT', name);
      assert.equal(error.retryable, true, name);
      assert.match(error.message, new RegExp(b.runId), name);
    }
    // Once B serves, the same completion goes through.
    const decision = decideServingChange(
      undefined,
      [a, b],
      request(observedTraffic(SERVICE, { [REV_B]: 100 }), 'promote', completeVerify(b.runId)),
      { now: at(2_000) },
    );
    assert.equal(byId(applied([a, b], decision), b.runId).status, 'live');
  });

  it('property: after any sequence of observations at most one run of the service is live, the one whose revision serves', () => {
    const N = 4;
    const revision = (i: number) => `recs-home-0000${i}`;
    const target = fc.record({
      revision: fc.oneof(
        fc.integer({ min: 0, max: N - 1 }).map(revision),
        fc.constant('recs-home-unknown'),
      ),
      percent: fc.integer({ min: 0, max: 100 }),
    });
    const observation = fc.record({
      targets: fc.array(target, { maxLength: 3 }),
      liveIndex: fc.option(fc.integer({ min: 0, max: N }), { nil: undefined }),
      complete: fc.option(fc.integer({ min: 0, max: N - 1 }), { nil: undefined }),
    });
    // How each run starts: 0 deployed, 1 verifying (held by 'verifier'), 2 failed, 3 live.
    const starts = fc
      .array(fc.integer({ min: 0, max: 2 }), { minLength: N, maxLength: N })
      .chain((kinds) =>
        fc
          .option(fc.integer({ min: 0, max: N - 1 }), { nil: undefined })
          .map((liveAt) => kinds.map((k, i) => (i === liveAt ? 3 : k))),
      );

    fc.assert(
      fc.property(starts, fc.array(observation, { minLength: 1, maxLength: 8 }), (kinds, steps) => {
        let runs = kinds.map((kind, i) => startRun(i, kind, revision(i)));
        let record: ServingRecord | undefined;
        let t = 10_000;
        for (const step of steps) {
          t += 1_000;
          const before = runs;
          const liveRevision =
            step.liveIndex === undefined
              ? undefined
              : step.liveIndex === N
                ? 'recs-home-unknown'
                : revision(step.liveIndex);
          const observed: ObservedTraffic = {
            serviceUrl: URL,
            ...(liveRevision === undefined ? {} : { liveRevision }),
            targets: step.targets,
          };
          const verifying =
            step.complete !== undefined && runs[step.complete]?.status === 'verifying'
              ? completeVerify(must(runs[step.complete]).runId)
              : undefined;
          let decision: ServingDecision;
          try {
            decision = decideServingChange(record, runs, request(observed, 'obs', verifying), {
              now: at(t),
            });
          } catch (error) {
            // Refused only for a completion whose run does not serve; nothing changes then.
            assert.ok(error instanceof RecdeployError, String(error));
            assert.equal(error.code, 'PLATFORM.CONFLICT');
            assert.ok(verifying !== undefined, 'only a completion is refused');
            const completing = must(runs.find((r) => r.runId === verifying.runId));
            const served = observed.liveRevision ?? largestShare(observed);
            assert.notEqual(served, completing.serving?.revision);
            continue;
          }
          const served = observed.liveRevision ?? largestShare(observed);
          const owner = runs.find((r) => served !== undefined && r.serving?.revision === served);
          if (
            verifying === undefined &&
            owner !== undefined &&
            (owner.status === 'deployed' || owner.status === 'verifying')
          ) {
            // Traffic on a revision still being verified: verify records it
            // (both runs at once); an observation in between moves nothing.
            assert.deepEqual(decision.runWrites, [], 'nothing moves while verify has not recorded');
            assert.equal(decision.record, undefined, 'nor is the record written');
            continue;
          }
          runs = applied(runs, decision).sort((x, y) => (x.runId < y.runId ? -1 : 1));
          record = decision.record ?? record;

          const live = runs.filter((run) => run.status === 'live');
          assert.ok(live.length <= 1, `live after ${JSON.stringify(step)}: ${live.length}`);
          const serving = must(record).liveRevision;
          if (serving !== undefined) {
            for (const run of live) assert.equal(run.serving?.revision, serving);
            assert.equal(
              must(record).liveRunId,
              runs.find((r) => r.serving?.revision === serving)?.runId,
            );
          }
          // Only runs that were written changed, and each written run is newer.
          for (const run of runs) {
            const old = before.find((r) => r.runId === run.runId);
            const written = decision.runWrites.some((w) => w.runId === run.runId);
            if (!written) assert.deepEqual(run, old);
            else assert.equal(run.updatedAt, at(t).toISOString());
          }
          // The same observation again changes nothing.
          const again = decideServingChange(record, runs, request(observed, 'again', verifying), {
            now: at(t + 1),
          });
          assert.deepEqual(again.runWrites, []);
          assert.equal(again.record, undefined);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('sameServing', () => {
  const record: ServingRecord = {
    service: SERVICE,
    modelEndpointId: ENDPOINT,
    serviceUrl: URL,
    liveRevision: REV_A,
    liveRunId: 'recs-home-a',
    traffic: [
      { revision: REV_A, percent: 90, runId: 'recs-home-a' },
      { revision: REV_B, percent: 10, runId: 'recs-home-b', tag: 'candidate' },
    ],
    since: at(0).toISOString(),
    cause: 'promote',
    observedAt: at(0).toISOString(),
  };

  it('ignores times and cause, and notices every change of what serves', () => {
    assert.equal(
      sameServing(record, { ...record, cause: 'reconciler', observedAt: at(9).toISOString() }),
      true,
    );
    assert.equal(sameServing(record, { ...record, liveRevision: REV_B }), false);
    assert.equal(sameServing(record, { ...record, liveRunId: 'recs-home-b' }), false);
    assert.equal(sameServing(record, { ...record, serviceUrl: 'https://other' }), false);
    assert.equal(
      sameServing(record, {
        ...record,
        traffic: [
          { revision: REV_A, percent: 80, runId: 'recs-home-a' },
          { revision: REV_B, percent: 20, runId: 'recs-home-b', tag: 'candidate' },
        ],
      }),
      false,
    );
  });

  it('does not depend on the key order of a stored record (a store need not keep it)', () => {
    // Firestore gives no guarantee of the order of a map's keys when it returns a
    // document (only arrays keep their order), so a record read back may list a
    // share's fields in another order than the one written.
    const stored: ServingRecord = {
      ...record,
      traffic: [
        { percent: 90, revision: REV_A, runId: 'recs-home-a' },
        { percent: 10, revision: REV_B, runId: 'recs-home-b', tag: 'candidate' },
      ],
    };
    assert.equal(sameServing(stored, record), true);
  });
});

describe('servingLookup', () => {
  it('asks for every observed revision once, and the run verify completes', () => {
    const lookup = servingLookup(
      request(
        {
          serviceUrl: URL,
          liveRevision: 'r3',
          targets: [
            { revision: 'r1', percent: 50 },
            { revision: 'r2', percent: 50 },
            { revision: 'r1', percent: 0 },
          ],
        },
        'x',
        completeVerify('recs-home-b'),
      ),
    );
    assert.deepEqual([...lookup.revisions].sort(), ['r1', 'r2', 'r3']);
    assert.deepEqual(lookup.runIds, ['recs-home-b']);
    assert.deepEqual(servingLookup(request(observedTraffic(SERVICE, {}), 'x')).runIds, []);
  });
});

/** The revision with the largest positive share (ties: the smaller name), as the platform reads. */
function largestShare(observed: ObservedTraffic): string | undefined {
  const sums = new Map<string, number>();
  for (const t of observed.targets) sums.set(t.revision, (sums.get(t.revision) ?? 0) + t.percent);
  return [...sums]
    .filter(([, percent]) => percent > 0)
    .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))[0]?.[0];
}

/** Run i of the property test, started as kind (0 deployed, 1 verifying, 2 failed, 3 live). */
function startRun(i: number, kind: number, revision: string): RunDocument {
  const steps =
    kind === 3 ? (['register', 'deploy', 'verify'] as const) : (['register', 'deploy'] as const);
  const run = runOf(`p${i}`, i + 1, revision, steps);
  if (kind === 1) return claimed(run, 'verify', 'verifier', at(5_000));
  if (kind === 2) {
    const held = claimed(run, 'verify', 'verifier', at(5_000));
    return must(
      decideFailStep(
        held,
        {
          runId: run.runId,
          step: 'verify',
          owner: 'verifier',
          permanent: true,
          error: { code: 'VERIFY.FAILED', message: 'smoke failed' },
        },
        { now: at(5_010) },
      ).write,
    );
  }
  assert.equal(run.status, kind === 3 ? 'live' : 'deployed');
  return run;
}
