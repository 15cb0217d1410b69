/**
 * The machinery of convergence-store-refuses-writes.test.ts: publish a run,
 * make the run store refuse writes once it is deploying (a Refusal: a lock,
 * a read-only file), and check what follows: no hand-off acknowledged while
 * it lasts and at least one refused, no committed version of the run showing
 * half a step, and within CONVERGE_MS of the store coming back the run live
 * with one registry version, one revision and one traffic change.
 */
import assert from 'node:assert/strict';
import { verificationPassed, type RunDocument } from '@recdeploy/shared';
import type { ChainDeps } from '@recdeploy/shared/chain';
import type { SampleBundle } from '../ann-serving/sample-bundle.js';
import {
  BusRecorder,
  describeRuns,
  localPlatform,
  pollUntil,
  runIdOf,
  servedBy,
  sleep,
  summariseAnswers,
  withoutStepBusyTraces,
  type ObservedAnswer,
} from './convergence.js';
import { trainingCompleted, type LocalChain } from './local-chain.js';

const CONVERGE_MS = 60_000;
const ENDED = ['live', 'failed', 'skipped', 'replaced', 'rolled_back'] as const;
const HAND_OFFS = ['model-registered', 'model-deployed'];

/** What a committed version of the run document may not show: half a step. */
export function halfSteps(run: RunDocument): string[] {
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
  // Verify saves its passed checks (all of them passed or skipped) before it
  // moves traffic, so a verification may stand beside a verify still in progress.
  const passedSoFar =
    verify.status === 'in_progress' &&
    run.verification !== undefined &&
    verificationPassed(run.verification.checks);
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
    need(verificationPassed(run.verification?.checks ?? []), 'live without passed checks');
  }
  for (const [name, step] of Object.entries(run.steps)) {
    need(
      step.status !== 'in_progress' || step.lease !== undefined,
      `${name} in progress without a lease`,
    );
  }
  return problems;
}

export interface Refusal {
  readonly name: string;
  readonly durationMs: number;
  /** Starts refusing writes; resolves with when it started and the run as committed then. */
  start(runId: string): Promise<{ startedAt: number; runAtStart?: RunDocument }>;
  /** Resolves with when writes were accepted again. */
  ended(): Promise<number>;
}

/** What refuseWritesDuringDeploy works with: the chain, its sample bundle, deps and bus recorder. */
export interface RefusalBench {
  readonly chain: LocalChain;
  readonly sample: SampleBundle;
  readonly deps: ChainDeps;
  readonly recorder: BusRecorder;
}

/** Publishes a run, refuses writes once it is deploying, and checks what follows. */
export async function refuseWritesDuringDeploy(
  bench: RefusalBench,
  endpoint: string,
  refusal: Refusal,
): Promise<void> {
  // The refusals themselves (STORE.UNAVAILABLE) are printed; "step busy" answers are only counted.
  const { heldBack } = await withoutStepBusyTraces(() => refuseAndCheck(bench, endpoint, refusal));
  console.log(`      (${heldBack} "step busy" traces not printed)`);
}

async function refuseAndCheck(
  { chain, sample, deps, recorder }: RefusalBench,
  endpoint: string,
  refusal: Refusal,
): Promise<void> {
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
    assert.ok(convergedMs <= CONVERGE_MS, `live only ${convergedMs} ms after the store came back`);

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
        ({ version, problems }) => `${version.updatedAt} ${version.status}: ${problems.join('; ')}`,
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
