/**
 * Convergence (DESIGN.md §4, issue 11): rollbacks back and forth on a real
 * service (two runs deployed through the chain, ann-serving processes behind
 * the service router), ten times. After each: exactly one run of the
 * endpoint is live, it is the run whose revision the router answers from
 * (x-recdeploy-revision), the serving record names that run and revision,
 * the run that lost the traffic is rolled_back (an older run took it) or
 * replaced by the newer one, and the platform logged exactly one more
 * traffic change.
 *
 * The rollback is the use case the CLI runs (rollbackService), on the chain's
 * own adapters (the same platform object that owns the revisions). The
 * stack's reconciler runs alongside every RECONCILE_MS, so its observations
 * interleave with the rollbacks as they may in a running stack.
 */
import assert from 'node:assert/strict';
import type { RunDocument } from '@recdeploy/shared';
import {
  rollbackService,
  type ChainDeps,
  type RollbackRequest,
  type RollbackResult,
} from '@recdeploy/shared/chain';
import { startReconciler, type StackReconciler } from '../../../cli/src/stack/stack-reconciler.js';
import {
  sampleBundleWithoutIndex,
  type SampleBundle,
} from '../../support/ann-serving/sample-bundle.js';
import {
  chainDeps,
  describeRuns,
  describeViolations,
  LiveSampler,
  localPlatform,
  runIdOf,
  servedBy,
  sleep,
} from '../../support/chain/convergence.js';
import { localChain, trainingCompleted, type LocalChain } from '../../support/chain/local-chain.js';

const RECONCILE_MS = Number(process.env.CONVERGENCE_RECONCILE_MS ?? 250);
const ROUNDS = 10;
const PAUSE_MS = 150;
const ENDED = ['live', 'failed', 'skipped', 'replaced', 'rolled_back'] as const;

describe('convergence: rollback and rollback --to back and forth', function () {
  this.timeout(120_000);
  let chain: LocalChain;
  let sample: SampleBundle;
  let deps: ChainDeps;
  let sampler: LiveSampler;
  let reconciler: StackReconciler;

  before(async () => {
    [chain, sample] = await Promise.all([localChain(), sampleBundleWithoutIndex()]);
    deps = await chainDeps();
    sampler = new LiveSampler(chain, 20);
    reconciler = startReconciler(deps, { intervalMs: RECONCILE_MS, progress: () => undefined });
  });
  after(async () => {
    await reconciler?.stop();
    sampler?.stop();
  });

  /** Runs 1 and 2 of `endpoint` deployed through the chain: 2 live, 1 replaced. */
  async function twoRuns(endpoint: string): Promise<[RunDocument, RunDocument]> {
    const runs: RunDocument[] = [];
    for (const n of [1, 2]) {
      const uri = await chain.addBundle(sample.dir, `${endpoint}-${n}`);
      await chain.publishTrainingCompleted(
        trainingCompleted(uri, {
          model_endpoint_id: endpoint,
          training_run_id: `train-00${n}`,
          run_number: n,
        }),
      );
      const run = await chain.waitForRun(runIdOf(endpoint, `train-00${n}`), ENDED);
      assert.equal(run.status, 'live', describeRuns([run]));
      runs.push(run);
    }
    const [one, two] = runs as [RunDocument, RunDocument];
    assert.equal((await chain.runs.getRun(one.runId))?.status, 'replaced');
    return [one, two];
  }

  /**
   * Ten rollbacks alternating between the two runs; `request(i, target)` says
   * how the i-th asks for `target`. Checks everything after each one.
   */
  async function backAndForth(
    endpoint: string,
    request: (round: number, target: RunDocument) => RollbackRequest,
    describeRequest: (round: number) => string,
  ): Promise<void> {
    const [one, two] = await twoRuns(endpoint);
    const service = one.serving!.service;
    const url = two.serving!.url!;
    const platform = localPlatform(deps);
    sampler.watch(endpoint, service);
    let liveRun = two;
    const lines: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const target = liveRun.runId === one.runId ? two : one;
      const loser = liveRun;
      const changesBefore = platform.trafficChanges(service).length;
      const asked = request(round, target);
      const what = `round ${round + 1} (${describeRequest(round)}: ${loser.runNumber} → ${target.runNumber})`;
      let result: RollbackResult;
      const started = Date.now();
      try {
        result = await rollbackService(deps, asked);
      } catch (error) {
        const runs = await chain.runs.listRuns({ modelEndpointId: endpoint });
        throw new Error(
          `${what} refused: ${String(error)}\n  state before:\n${describeRuns(runs)}\n  earlier rounds:\n${lines.join('\n')}`,
        );
      }
      const tookMs = Date.now() - started;

      const runs = await chain.runs.listRuns({ modelEndpointId: endpoint });
      const table = describeRuns(runs);
      const live = runs.filter((run) => run.status === 'live');
      const served = await servedBy(url, sample.examples.slice(0, 1));
      const record = await chain.runs.getServingRecord(service);
      const loserNow = runs.find((run) => run.runId === loser.runId);
      const expectedLoser = target.runNumber < loser.runNumber ? 'rolled_back' : 'replaced';
      assert.equal(result.toRevision, target.serving!.revision, `${what}: moved to\n${table}`);
      assert.deepEqual(
        live.map((run) => run.runId),
        [target.runId],
        `${what}: live runs afterwards\n${table}`,
      );
      assert.equal(
        served.revision,
        target.serving!.revision,
        `${what}: the router answered from ${served.revision} (status ${served.status})\n${table}`,
      );
      assert.deepEqual(
        { liveRunId: record?.liveRunId, liveRevision: record?.liveRevision },
        { liveRunId: target.runId, liveRevision: target.serving!.revision },
        `${what}: serving record`,
      );
      assert.equal(
        loserNow?.status,
        expectedLoser,
        `${what}: the run that lost the traffic\n${table}`,
      );
      if (expectedLoser === 'replaced') assert.equal(loserNow?.replacedBy, target.runId, table);
      assert.equal(
        platform.trafficChanges(service).length,
        changesBefore + 1,
        `${what}: traffic changes on the platform`,
      );
      lines.push(
        `    ${what}: ${tookMs} ms, target by ${result.targetSource}; ${runs.map((r) => `${r.runNumber}=${r.status}`).join(' ')}`,
      );
      liveRun = target;
      // Time for samples and a reconciler pass or two between rounds.
      await sleep(PAUSE_MS);
    }
    const violations = sampler.violationsOf(endpoint);
    assert.equal(
      violations.length,
      0,
      `samples without exactly one live run named by the serving record:\n${describeViolations(violations)}`,
    );
    console.log(
      `${lines.join('\n')}\n    ${sampler.samples} samples, none with other than one live run`,
    );
  }

  it(`rollback, then rollback --to the newer revision, ${ROUNDS} times`, async () => {
    await backAndForth(
      'conv-rollback',
      (round, target) =>
        round % 2 === 0
          ? { service: target.serving!.service }
          : { service: target.serving!.service, toRevision: target.serving!.revision! },
      (round) => (round % 2 === 0 ? 'rollback' : 'rollback --to'),
    );
  });

  it(`rollback --to one revision, then the other, ${ROUNDS} times`, async () => {
    await backAndForth(
      'conv-rollback-to',
      (_round, target) => ({
        service: target.serving!.service,
        toRevision: target.serving!.revision!,
      }),
      () => 'rollback --to',
    );
  });
});

after(async () => (await localChain()).stop());
