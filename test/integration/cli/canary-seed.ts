/**
 * Runs in `canary` for the promote/abort tests, written through the real
 * run store as the chain writes them: a stable run live at 100%, then a
 * second run whose verify step completes in the serving-record transaction
 * that starts its canary at 10% (the stable keeps 90% and stays live), with
 * its state built by the domain's own functions (startCanary, trafficMoved,
 * judgeCanaryWindow, decideHold), so the states cannot drift from what a
 * tick writes. Plus what a canary tick needs to carry a request out
 * (advanceCanary), with the in-memory platform serving the seeded split.
 */
import {
  DEFAULT_CANARY_PLAN,
  RecordingLogger,
  decideHold,
  judgeCanaryWindow,
  startCanary,
  trafficMoved,
  type RunDocument,
  type RunStore,
  type ServingRef,
} from '@recdeploy/shared';
import { advanceCanary, loadChainConfig } from '@recdeploy/shared/chain';
import { sampleIdentity } from '../../fixtures/runs.js';
import { MemoryPlatform } from '../../support/chain/memory-platform.js';
import { deployedAndVerifying, liveRun, patchFor } from './cli-harness.js';

export const SERVICE = 'rec-recs-home';
export const STABLE_REV = `${SERVICE}-r1`;
export const CANARY_REV = `${SERVICE}-r2`;
const SERVICE_URL = 'http://127.0.0.1:40000';

function servingOf(revision: string): ServingRef {
  return { runtime: 'ann-serving', mode: 'ann', service: SERVICE, revision, url: SERVICE_URL };
}

/** The stable run live, and a run in canary at 10% holding its first step (judged once: wait). */
export async function seedCanary(
  store: RunStore,
): Promise<{ stable: RunDocument; canary: RunDocument }> {
  const stable = await liveRun(store, sampleIdentity(), servingOf(STABLE_REV));
  const identity = sampleIdentity({ trainingRunId: 'train-002', runNumber: 2 });
  const serving = servingOf(CANARY_REV);
  const runId = await deployedAndVerifying(store, identity, serving);
  const movedAt = new Date(Date.now() - 40_000);
  const first = trafficMoved(
    startCanary(
      DEFAULT_CANARY_PLAN,
      { revision: CANARY_REV, stableRevision: STABLE_REV, stableRunId: stable.runId },
      movedAt,
    ),
    movedAt,
  );
  const { changedRuns } = await store.recordServing({
    service: SERVICE,
    modelEndpointId: identity.modelEndpointId,
    observed: {
      serviceUrl: SERVICE_URL,
      targets: [
        { revision: CANARY_REV, percent: 10 },
        { revision: STABLE_REV, percent: 90 },
      ],
    },
    cause: `run ${runId} verified: canary at 10%`,
    startsCanary: true,
    complete: {
      runId,
      step: 'verify',
      owner: 'test-chain',
      patch: { ...patchFor('verify', serving), canary: first },
    },
  });
  if (changedRuns.find((run) => run.runId === runId)?.status !== 'canary') {
    throw new Error(`run ${runId} did not start its canary`);
  }
  // One tick's judgement 40 s into the window: healthy so far, held too briefly to pass.
  const now = new Date();
  const analysis = judgeCanaryWindow(
    first.plan,
    { requests: 1_203, errors: 2, latencyP50Ms: 4, latencyP99Ms: 19 },
    { requests: 10_811, errors: 11, latencyP50Ms: 4, latencyP99Ms: 18 },
    { from: movedAt, through: now },
  );
  const judged = await store.updateCanary({
    runId,
    expectSeq: first.seq,
    canary: decideHold(first, analysis, now),
  });
  if (!judged.updated) throw new Error(`the judgement of ${runId} was not written`);
  return { stable, canary: judged.run };
}

/**
 * One canary tick as the local stack's runs it (the real use case), on a
 * platform serving the seeded split: it carries out a recorded request.
 */
export async function tickCanary(store: RunStore, runId: string): Promise<RunDocument | undefined> {
  const platform = new MemoryPlatform();
  platform.addService(SERVICE, STABLE_REV, [CANARY_REV]);
  await platform.splitTraffic(SERVICE, [
    { revision: CANARY_REV, percent: 10 },
    { revision: STABLE_REV, percent: 90 },
  ]);
  return advanceCanary(
    {
      config: loadChainConfig({}),
      logger: new RecordingLogger(),
      runStore: store,
      eventBus: { publish: () => Promise.resolve('1'), close: () => Promise.resolve() },
      platform,
      metrics: {
        read: () => Promise.reject(new Error('a request is carried out without reading metrics')),
        close: () => Promise.resolve(),
      },
    },
    runId,
  );
}
