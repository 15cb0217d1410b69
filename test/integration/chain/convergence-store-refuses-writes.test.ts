/**
 * Convergence (DESIGN.md §4, issue 11): the run store refuses writes in the
 * middle of a deploy, then comes back.
 *
 * - Locked: another process holds an exclusive SQLite lock on runs.db
 *   (BEGIN EXCLUSIVE) for 15 s from the moment the run is `deploying`: longer
 *   than busy_timeout (10 s), so a write of the chain waits it out (blocking
 *   the single process the stack runs in, as it would block `recdeploy
 *   start`) and fails.
 * - Read-only: runs.db and its WAL are made immutable (chattr +i, which
 *   binds root too, unlike a file mode: the tests run as root here) for 10 s;
 *   every write fails at once with an I/O error. Skipped where chattr cannot
 *   be used (not root, or a file system without the flag).
 *
 * Either way: while it lasts no hand-off of the run is acknowledged (2xx
 * only after the state is committed) and at least one is answered non-2xx;
 * no committed version of the run document shows half a step; within 60 s
 * of the store coming back the run is live, with one registry version, one
 * revision and one traffic change, and the router serves it.
 *
 * The chain is the in-process one of local-chain.ts, with the stack's
 * reconciler loop (cli/src/stack/stack-reconciler.ts) at the stack's cadence
 * (every LEASE_TTL_S).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { RunDocument } from '@recdeploy/shared';
import type { ChainDeps } from '@recdeploy/shared/chain';
import { startReconciler, type StackReconciler } from '../../../cli/src/stack/stack-reconciler.js';
import {
  sampleBundleWithoutIndex,
  type SampleBundle,
} from '../../support/ann-serving/sample-bundle.js';
import {
  BusRecorder,
  chainDeps,
  describeRuns,
  localPlatform,
  pollUntil,
  runIdOf,
  servedBy,
  sleep,
  StoreLock,
  summariseAnswers,
  withoutStepBusyTraces,
  type ObservedAnswer,
} from '../../support/chain/convergence.js';
import { localChain, trainingCompleted, type LocalChain } from '../../support/chain/local-chain.js';

const LOCK_MS = 15_000;
const READ_ONLY_MS = 10_000;
const CONVERGE_MS = 60_000;
const ENDED = ['live', 'failed', 'skipped', 'replaced', 'rolled_back'] as const;
const HAND_OFFS = ['model-registered', 'model-deployed'];

/** What a committed version of the run document may not show: half a step. */
function halfSteps(run: RunDocument): string[] {
  const problems: string[] = [];
  const { register, deploy, verify } = run.steps;
  const need = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  need(
    (run.registry !== undefined) === (register.status === 'succeeded'),
    `registry ${run.registry ? 'set' : 'unset'} with register ${register.status}`,
  );
  need(
    (run.serving !== undefined) === (deploy.status === 'succeeded'),
    `serving ${run.serving ? `set (${run.serving.revision})` : 'unset'} with deploy ${deploy.status}`,
  );
  if (deploy.status === 'succeeded') {
    need(
      run.serving?.revision !== undefined && run.serving.tagUrl !== undefined,
      'deploy succeeded without a revision and tag URL',
    );
  }
  // Verify saves its passed checks (all of them passed) before it moves
  // traffic, so a verification may stand beside a verify still in progress.
  const passedSoFar =
    verify.status === 'in_progress' &&
    run.verification !== undefined &&
    run.verification.checks.length > 0 &&
    run.verification.checks.every((check) => check.passed);
  need(
    run.verification === undefined ||
      verify.status === 'succeeded' ||
      verify.status === 'failed' ||
      passedSoFar,
    `verification recorded with verify ${verify.status}`,
  );
  const steps = `${register.status}/${deploy.status}/${verify.status}`;
  const expected: Partial<Record<RunDocument['status'], RegExp>> = {
    received: /^pending\/pending\/pending$/,
    registering: /^(in_progress|pending)\/pending\/pending$/,
    registered: /^succeeded\/pending\/pending$/,
    deploying: /^succeeded\/(in_progress|pending)\/pending$/,
    deployed: /^succeeded\/succeeded\/pending$/,
    verifying: /^succeeded\/succeeded\/(in_progress|pending)$/,
    live: /^succeeded\/succeeded\/succeeded$/,
  };
  const pattern = expected[run.status];
  need(pattern === undefined || pattern.test(steps), `status ${run.status} with steps ${steps}`);
  if (run.status === 'live') {
    need(run.serving?.url !== undefined, 'live without a service URL');
    need(
      (run.verification?.checks.length ?? 0) > 0 &&
        (run.verification?.checks ?? []).every((c) => c.passed),
      'live without passed checks',
    );
  }
  for (const [name, step] of Object.entries(run.steps)) {
    need(
      step.status !== 'in_progress' || step.lease !== undefined,
      `${name} in progress without a lease`,
    );
  }
  return problems;
}

interface Refusal {
  readonly name: string;
  readonly durationMs: number;
  /** Starts refusing writes; resolves with when it started and the run as committed then. */
  start(runId: string): Promise<{ startedAt: number; runAtStart?: RunDocument }>;
  /** Resolves with when writes were accepted again. */
  ended(): Promise<number>;
}

describe('convergence: a run store that refuses writes mid-deploy', function () {
  this.timeout(180_000);
  let chain: LocalChain;
  let sample: SampleBundle;
  let deps: ChainDeps;
  let recorder: BusRecorder;
  let reconciler: StackReconciler;
  const reconcilerLines: string[] = [];

  before(async () => {
    [chain, sample] = await Promise.all([localChain(), sampleBundleWithoutIndex()]);
    deps = await chainDeps();
    recorder = BusRecorder.install(chain);
    reconciler = startReconciler(deps, {
      intervalMs: deps.config.leases.ttlMs,
      progress: (line) => reconcilerLines.push(line),
    });
  });
  after(async () => {
    await reconciler?.stop();
    recorder?.uninstall();
  });

  /** Publishes a run, refuses writes once it is deploying, and checks what follows. */
  async function refuseWritesDuringDeploy(endpoint: string, refusal: Refusal): Promise<void> {
    // The refusals themselves (STORE.UNAVAILABLE) are printed; "step busy" answers are only counted.
    const { heldBack } = await withoutStepBusyTraces(() => refuseAndCheck(endpoint, refusal));
    console.log(`      (${heldBack} "step busy" traces not printed)`);
  }

  async function refuseAndCheck(endpoint: string, refusal: Refusal): Promise<void> {
    const runId = runIdOf(endpoint, 'train-001');
    const service = `rec-${endpoint}`;
    const versions: RunDocument[] = [];
    const unwatch = chain.runs.watch(({ run }) => {
      if (run.runId === runId) versions.push(run);
    });
    try {
      const uri = await chain.addBundle(sample.dir, `${endpoint}-1`);
      const published = Date.now();
      await chain.publishTrainingCompleted(trainingCompleted(uri, { model_endpoint_id: endpoint }));
      const deploying = await pollUntil(
        () => chain.runs.getRun(runId),
        (run) => run !== undefined && run.status !== 'received' && !/^regist/.test(run.status),
        30_000,
        5,
      );
      assert.equal(
        deploying.value?.status,
        'deploying',
        `the run should be deploying before the store refuses writes:\n${describeRuns(deploying.value ? [deploying.value] : [])}`,
      );
      const { startedAt, runAtStart } = await refusal.start(runId);
      // The refusal landed mid-deploy: the deploy attempt was running, nothing after it committed.
      assert.equal(
        `${runAtStart?.status}/${runAtStart?.steps.deploy.status}`,
        'deploying/in_progress',
        `${refusal.name}: the store refused writes too late (the run as committed then):\n${describeRuns(runAtStart ? [runAtStart] : [])}`,
      );
      const endedAt = await refusal.ended();

      // Converges within CONVERGE_MS of the store coming back.
      const converged = await pollUntil(
        () => chain.runs.getRun(runId),
        (run) => run !== undefined && (ENDED as readonly string[]).includes(run.status),
        CONVERGE_MS - (Date.now() - endedAt),
        50,
      );
      const run = converged.value;
      const convergedMs = Date.now() - endedAt;
      const history = (run?.history ?? [])
        .filter((h) => Date.parse(h.at) >= startedAt - 1000)
        .map((h) => `    ${h.at} ${h.from}→${h.to} ${h.reason ?? ''}`)
        .join('\n');
      assert.ok(run !== undefined, 'the run vanished');
      assert.equal(
        run.status,
        'live',
        `${refusal.name}: ${converged.met ? 'ended' : 'still not ended'} ${convergedMs} ms after the store came back:\n${describeRuns([run])}\n  history since the refusal:\n${history}`,
      );
      assert.ok(
        convergedMs <= CONVERGE_MS,
        `live only ${convergedMs} ms after the store came back`,
      );

      // No hand-off of the run was acknowledged while writes were refused, and some were refused.
      await pollUntil(
        () => Promise.resolve(recorder.pending(runId)),
        (n) => n === 0,
        10_000,
      );
      const answers = recorder.answers(runId).filter((a) => HAND_OFFS.includes(a.topic));
      const answeredDuring = (a: ObservedAnswer) => {
        const at = Date.parse(a.at);
        return at > startedAt && at < endedAt;
      };
      // Attempts pushed while writes were refused (the answer may come once the
      // store is back: with the lock, the handler's write waits busy_timeout).
      const overlapping = recorder
        .attempts(runId)
        .filter(
          (a) =>
            HAND_OFFS.includes(a.topic) &&
            Date.parse(a.claimedAt) < endedAt &&
            (a.answeredAt === null || Date.parse(a.answeredAt) > startedAt),
        );
      const ackedDuring = answers.filter((a) => a.outcome === 'acked' && answeredDuring(a));
      const refusedOverlapping = overlapping.filter((a) => a.outcome !== 'acked');
      const summary = `answers to the run's hand-offs: ${summariseAnswers(answers)}; ${overlapping.length} pushes overlapped the refusal, ${refusedOverlapping.length} of them answered non-2xx; ${ackedDuring.length} acked while refused`;
      assert.deepEqual(
        ackedDuring,
        [],
        `${refusal.name}: a hand-off was acknowledged while no state could be committed (${summary})`,
      );
      assert.ok(
        refusedOverlapping.length >= 1 && refusedOverlapping.length === overlapping.length,
        `${refusal.name}: every push made while writes were refused must be answered non-2xx (${summary}): ${JSON.stringify(overlapping)}`,
      );
      assert.ok(
        answers.every((a) => a.outcome !== 'dead'),
        `${refusal.name}: a hand-off was dead-lettered (${summary})`,
      );

      // No committed version shows half a step.
      await sleep(500); // the change feed polls every 200 ms
      const broken = versions
        .map((version) => ({ version, problems: halfSteps(version) }))
        .filter(({ problems }) => problems.length > 0);
      assert.deepEqual(
        broken.map(
          ({ version, problems }) =>
            `${version.updatedAt} ${version.status}: ${problems.join('; ')}`,
        ),
        [],
        `${refusal.name}: committed versions with half a step`,
      );
      assert.ok(versions.length >= 7, `the change feed saw only ${versions.length} versions`);

      // Effects happened once.
      const versionsInRegistry = await chain.registry.listVersions(run.registry!.model);
      const platform = localPlatform(deps);
      const revisions = platform.listRevisions(service);
      const trafficChanges = platform.trafficChanges(service);
      const record = await chain.runs.getServingRecord(service);
      const answer = await servedBy(run.serving!.url!, sample.examples.slice(0, 1));
      const effects = {
        registryVersions: versionsInRegistry.length,
        revisions: revisions.map((r) => r.revision),
        trafficChanges: trafficChanges.map((c) => c.revision),
        servingRecord: record?.liveRunId,
        routerServes: answer.revision,
      };
      assert.deepEqual(
        effects,
        {
          registryVersions: 1,
          revisions: [run.serving!.revision],
          trafficChanges: [run.serving!.revision],
          servingRecord: runId,
          routerServes: run.serving!.revision,
        },
        `${refusal.name}: effects`,
      );
      console.log(
        `      ${refusal.name}: refused writes for ${endedAt - startedAt} ms from ${startedAt - published} ms after publishing; live ${convergedMs} ms after the store came back; deploy attempts ${run.steps.deploy.attempts}, verify attempts ${run.steps.verify.attempts}; ${summary}; ${versions.length} committed versions checked\n${history}`,
      );
    } finally {
      unwatch();
    }
  }

  it('an exclusive lock on runs.db held by another process for 15 s', async () => {
    const lock = await StoreLock.open(path.join(chain.dataDir, 'runs.db'));
    let released: Promise<number> | undefined;
    try {
      await refuseWritesDuringDeploy('conv-locked', {
        name: 'exclusive lock',
        durationMs: LOCK_MS,
        async start(runId) {
          const report = await lock.hold(LOCK_MS, runId);
          released = report.releasedAt;
          return {
            startedAt: report.lockedAt,
            ...(report.runAtLock === undefined ? {} : { runAtStart: report.runAtLock }),
          };
        },
        ended: () => released!,
      });
    } finally {
      lock.kill();
    }
  });

  it('runs.db and its WAL immutable (read-only, even for root) for 10 s', async function () {
    const files = ['runs.db', 'runs.db-wal'].map((f) => path.join(chain.dataDir, f));
    const chattr = (flag: '+i' | '-i') =>
      execFileSync('chattr', [flag, ...files.filter((f) => existsSync(f))], { stdio: 'pipe' });
    try {
      chattr('+i');
      chattr('-i');
    } catch (error) {
      this.skip(); // no chattr, not root, or a file system without the immutable flag
      void error;
    }
    const restore = () => {
      try {
        chattr('-i');
      } catch {
        // already writable, or gone
      }
    };
    process.once('exit', restore);
    let endedAt: Promise<number> | undefined;
    try {
      await refuseWritesDuringDeploy('conv-readonly', {
        name: 'read-only store',
        durationMs: READ_ONLY_MS,
        async start(runId) {
          chattr('+i');
          const startedAt = Date.now();
          const runAtStart = await chain.runs.getRun(runId);
          endedAt = sleep(READ_ONLY_MS).then(() => {
            chattr('-i');
            return Date.now();
          });
          return { startedAt, ...(runAtStart === undefined ? {} : { runAtStart }) };
        },
        ended: () => endedAt!,
      });
    } finally {
      await endedAt?.catch(() => undefined);
      restore();
      process.removeListener('exit', restore);
    }
  });
});

after(async () => (await localChain()).stop());
