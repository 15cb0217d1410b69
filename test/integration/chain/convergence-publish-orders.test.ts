/**
 * Convergence (DESIGN.md §4, issue 11): runs 1..5 of one endpoint published
 * in four orders (ascending, descending, shuffled, all at once), each order
 * on its own endpoint. The newest run ends live; every other run ends
 * skipped (superseded) or replaced (naming a newer run). The run store is
 * sampled every 20 ms while they run, as a dashboard reads it: from the
 * first live run on, every sample has exactly one live run, and the
 * service's serving record names it (never two, never none). Traffic only
 * ever moves forward: each traffic change goes to a newer run than the one
 * before.
 *
 * The stack's reconciler (cli/src/stack/stack-reconciler.ts) runs alongside,
 * every RECONCILE_MS rather than every LEASE_TTL_S: a pass may start at any
 * moment (the cloud's scheduled passes can overlap a deployment at any
 * point), so it must be safe at every moment, and a short interval lets the
 * test meet more of those moments. The last test puts a pass at the one
 * moment a sampler rarely meets: after verify moved the traffic and before
 * it recorded the run live.
 */
import assert from 'node:assert/strict';
import type { RunDocument } from '@recdeploy/shared';
import { reconcile, type ChainDeps, type ReconcileReport } from '@recdeploy/shared/chain';
import { startReconciler, type StackReconciler } from '../../../cli/src/stack/stack-reconciler.js';
import {
  sampleBundleWithoutIndex,
  type SampleBundle,
} from '../../support/ann-serving/sample-bundle.js';
import {
  BusRecorder,
  chainDeps,
  describeRuns,
  describeViolations,
  LiveSampler,
  localPlatform,
  pollUntil,
  runIdOf,
  servedBy,
  sleep,
  withoutStepBusyTraces,
} from '../../support/chain/convergence.js';
import { localChain, trainingCompleted, type LocalChain } from '../../support/chain/local-chain.js';

const RECONCILE_MS = Number(process.env.CONVERGENCE_RECONCILE_MS ?? 250);
/** Between two publishes of one order (a run takes ~1–2 s from publish to live). */
const GAP_MS = 300;
const ENDED = new Set(['live', 'failed', 'skipped', 'replaced', 'rolled_back']);
const RUNS = [1, 2, 3, 4, 5] as const;

const ORDERS: readonly { label: string; order: readonly number[] | 'all-at-once' }[] = [
  { label: 'ascending', order: [1, 2, 3, 4, 5] },
  { label: 'descending', order: [5, 4, 3, 2, 1] },
  { label: 'shuffled', order: [3, 1, 5, 2, 4] },
  { label: 'concurrent', order: 'all-at-once' },
];

describe('convergence: runs 1..5 of one endpoint in four publish orders', function () {
  this.timeout(120_000);
  let chain: LocalChain;
  let sample: SampleBundle;
  let deps: ChainDeps;
  let sampler: LiveSampler;
  let recorder: BusRecorder;
  let reconciler: StackReconciler;
  const reconcilerLines: string[] = [];

  before(async () => {
    [chain, sample] = await Promise.all([localChain(), sampleBundleWithoutIndex()]);
    deps = await chainDeps();
    sampler = new LiveSampler(chain, 20);
    recorder = BusRecorder.install(chain);
    reconciler = startReconciler(deps, {
      intervalMs: RECONCILE_MS,
      progress: (line) => reconcilerLines.push(line),
    });
  });
  after(async () => {
    await reconciler?.stop();
    sampler?.stop();
    recorder?.uninstall();
    if (reconcilerLines.length > 0) {
      console.log(
        `      reconciler said:\n${reconcilerLines.map((l) => `        ${l}`).join('\n')}`,
      );
    }
  });

  for (const { label, order } of ORDERS) {
    it(`${label} (${order === 'all-at-once' ? 'all five at once' : order.join(', ')}): run 5 live, the others skipped or replaced, one live run at every sample`, async () => {
      const endpoint = `conv-order-${label}`;
      const service = `rec-${endpoint}`;
      const runIds = RUNS.map((n) => runIdOf(endpoint, `train-00${n}`));
      const uris = await Promise.all(
        RUNS.map((n) => chain.addBundle(sample.dir, `${endpoint}-${n}`)),
      );
      const publish = (n: number) =>
        chain.publishTrainingCompleted(
          trainingCompleted(uris[n - 1]!, {
            model_endpoint_id: endpoint,
            training_run_id: `train-00${n}`,
            run_number: n,
            completed_at: `2026-11-26T08:0${n}:00Z`,
          }),
        );
      sampler.watch(endpoint, service);
      const started = Date.now();
      const listRuns = async () =>
        [...(await chain.runs.listRuns({ modelEndpointId: endpoint, limit: 50 }))].sort(
          (a, b) => a.runNumber - b.runNumber,
        );
      const { result: settled, heldBack } = await withoutStepBusyTraces(async () => {
        if (order === 'all-at-once') {
          await Promise.all(RUNS.map(publish));
        } else {
          for (const [i, n] of order.entries()) {
            if (i > 0) await sleep(GAP_MS);
            await publish(n);
          }
        }
        return pollUntil(
          listRuns,
          (runs) =>
            runs.length === 5 &&
            runs.every((run) => ENDED.has(run.status)) &&
            runIds.every((id) => recorder.pending(id) === 0),
          90_000,
          100,
        );
      });

      const elapsed = Date.now() - started;
      // A few more samples of the final state.
      await sleep(200);
      const runs = await listRuns();
      const table = describeRuns(runs);
      assert.ok(settled.met, `not all runs ended within 90 s:\n${table}`);

      const violations = sampler.violationsOf(endpoint);
      assert.equal(
        violations.length,
        0,
        `samples without exactly one live run named by the serving record (first live at ${sampler.firstLiveAt(endpoint)}):\n${describeViolations(violations)}\nfinal:\n${table}`,
      );

      const newest = runs.find((run) => run.runNumber === 5);
      assert.ok(newest?.status === 'live', `run 5 should end live:\n${table}`);
      const byId = new Map(runs.map((run) => [run.runId, run]));
      for (const run of runs.filter((r) => r.runNumber !== 5)) {
        assert.ok(
          run.status === 'skipped' || run.status === 'replaced',
          `run ${run.runNumber} ended ${run.status}, not skipped or replaced:\n${table}`,
        );
        if (run.status === 'skipped') {
          assert.match(
            run.statusReason ?? '',
            /RUN\.SUPERSEDED/,
            `run ${run.runNumber}:\n${table}`,
          );
        } else {
          const by = run.replacedBy === undefined ? undefined : byId.get(run.replacedBy);
          assert.ok(
            by !== undefined && by.runNumber > run.runNumber,
            `run ${run.runNumber} is replaced by ${run.replacedBy ?? 'nobody'}, not a newer run of the endpoint:\n${table}`,
          );
        }
      }

      const record = await chain.runs.getServingRecord(service);
      assert.equal(record?.liveRunId, newest.runId, `serving record: ${JSON.stringify(record)}`);
      const answer = await servedBy(newest.serving!.url!, sample.examples.slice(0, 1));
      assert.equal(answer.revision, newest.serving?.revision, 'the router serves run 5');

      // Every run registered once; traffic moved once per run that went live, always forward.
      const versions = await chain.registry.listVersions(newest.registry!.model);
      assert.equal(versions.length, 5, `registry versions: ${JSON.stringify(versions)}`);
      const changes = localPlatform(deps).trafficChanges(service);
      const runOfRevision = (revision: string) =>
        runs.find((run) => run.serving?.revision === revision);
      const movedTo = changes.map((c) => runOfRevision(c.revision)?.runNumber ?? -1);
      const wentLive = runs.filter((run) => run.status === 'replaced' || run.status === 'live');
      assert.deepEqual(
        movedTo,
        wentLive.map((run) => run.runNumber),
        `traffic changes (by run number) against the runs that went live:\n${table}`,
      );

      console.log(
        `      ${label}: ${elapsed} ms; ${sampler.samples} samples so far (longest gap ${sampler.maxGapMs} ms); traffic went to runs ${movedTo.join(' → ')}; ${heldBack} "step busy" traces not printed; ${runs.map((r: RunDocument) => `${r.runNumber}=${r.status}`).join(' ')}`,
      );
    });
  }

  it('a reconciler pass between verify moving the traffic and recording the run live leaves one run live', async () => {
    const endpoint = 'conv-reconcile-window';
    const service = `rec-${endpoint}`;
    const publish = async (n: number) => {
      const uri = await chain.addBundle(sample.dir, `${endpoint}-${n}`);
      await chain.publishTrainingCompleted(
        trainingCompleted(uri, {
          model_endpoint_id: endpoint,
          training_run_id: `train-00${n}`,
          run_number: n,
        }),
      );
      return chain.waitForRun(runIdOf(endpoint, `train-00${n}`), [
        ...ENDED,
      ] as RunDocument['status'][]);
    };
    const first = await publish(1);
    assert.equal(first.status, 'live', describeRuns([first]));

    // The platform object the verify function uses: one reconciler pass right after its
    // promote of run 2's revision returns, before verify records what serves.
    const platform = deps.platform;
    const promote = platform.promote.bind(platform);
    let inWindow:
      { report: ReconcileReport; runs: readonly RunDocument[]; liveRunId?: string } | undefined;
    Object.assign(platform, {
      async promote(name: string, revision: string) {
        const traffic = await promote(name, revision);
        if (name === service && inWindow === undefined) {
          const report = await reconcile(deps);
          const runs = await chain.runs.listRuns({ modelEndpointId: endpoint });
          const record = await chain.runs.getServingRecord(service);
          inWindow = {
            report,
            runs,
            ...(record?.liveRunId === undefined ? {} : { liveRunId: record.liveRunId }),
          };
        }
        return traffic;
      },
    });
    let second: RunDocument;
    try {
      second = await publish(2);
    } finally {
      delete (platform as unknown as Record<string, unknown>).promote;
    }
    assert.ok(
      !Object.hasOwn(platform, 'promote'),
      'the platform answers promote with its own method again',
    );
    assert.ok(inWindow !== undefined, 'the reconciler pass did not run in the window');
    const live = inWindow.runs.filter((run) => run.status === 'live');
    assert.equal(
      live.length,
      1,
      `after a reconciler pass in the window (it corrected ${JSON.stringify(inWindow.report.corrected)}; the serving record names ${inWindow.liveRunId ?? 'no run'}), ${live.length} runs are live:\n${describeRuns(inWindow.runs)}`,
    );
    assert.equal(second.status, 'live', describeRuns([second]));
    const final = await chain.runs.getRun(first.runId);
    assert.equal(final?.status, 'replaced', describeRuns(final ? [final] : []));
  });
});

after(async () => (await localChain()).stop());
