/**
 * Moves a run through the run store the way the chain's three functions do
 * (create, claim, complete or fail each step; verify completes in the same
 * transaction that records what the platform serves), one write at a time,
 * so a test can watch the dashboard after every write. The documents are the
 * store's own: nothing is written around the state machine.
 */
import type { RunDocument, RunIdentity, RunStore } from '@recdeploy/shared';
import { ChainWriter, type ChainStep, type RunFixture, type WalkOptions } from './chain-writer.js';

export { ChainWriter, type ChainStep, type RunFixture, type WalkOptions } from './chain-writer.js';

/** A retrieval run on ann-serving that passes every check. */
export function sampleRunFixture(
  identity: Partial<RunIdentity> = {},
  suffix = 'a1b2c3d4',
): RunFixture {
  const full: RunIdentity = {
    trainingRunId: 'train-001',
    modelEndpointId: 'recs-home',
    modelSlug: 'two-tower',
    runNumber: 1,
    modelType: 'retrieval',
    retrievalAlgorithm: 'scann',
    isBlessed: true,
    metrics: { recall_at_100: 0.4213, loss: 0.0811 },
    ...identity,
    artifactUri:
      identity.artifactUri ??
      `gs://models/${identity.modelEndpointId ?? 'recs-home'}/${identity.runNumber ?? 1}/pushed_model`,
  };
  const service = `rec-${full.modelEndpointId}`;
  return {
    identity: full,
    registry: {
      model: `projects/p/locations/us-central1/models/${full.modelEndpointId}`,
      version: String(full.runNumber),
    },
    serving: {
      runtime: 'ann-serving',
      mode: 'ann',
      runtimeReason: 'retrieval with scann: approximate nearest neighbours (HNSW index)',
      image: 'us-central1-docker.pkg.dev/p/recdeploy/ann-serving:latest',
      service,
      revision: `${service}-r${full.runNumber}-${suffix}`,
      tagUrl: `https://run-${suffix}---${service}-abc.a.run.app`,
    },
    serviceUrl: `https://${service}-abc.a.run.app`,
    verification: {
      checks: [
        { name: 'model_available', passed: true, detail: 'AVAILABLE after 1.2 s' },
        { name: 'metadata_inputs', passed: true, detail: 'inputs customer_id, city, segment' },
        { name: 'smoke_predictions', passed: true, detail: '3 instances, 10 ids each' },
        { name: 'latency', passed: true, detail: 'p50 4.25 ms ≤ 200 ms, p99 9.75 ms ≤ 1000 ms' },
        { name: 'ann_recall', passed: true, detail: 'recall@10 0.975 ≥ 0.9 over 100 queries' },
      ],
      latencyP50Ms: 4.25,
      latencyP99Ms: 9.75,
      recallAtK: { k: 10, recall: 0.975 },
    },
  };
}

/** received → registering → registered → deploying → deployed → verifying → live. */
export function stepsToLive(
  store: RunStore,
  fixture: RunFixture,
  options: WalkOptions = {},
): ChainStep[] {
  const chain = new ChainWriter(store, fixture, options);
  return [...chain.toVerifying(), { status: 'live', write: () => chain.goLive() }];
}

/**
 * A run whose first deploy attempt fails and is retried, and whose revision
 * then fails verification: received … verifying, failed.
 */
export function stepsToFailedVerification(
  store: RunStore,
  fixture: RunFixture,
  options: WalkOptions = {},
): ChainStep[] {
  const chain = new ChainWriter(store, fixture, options);
  const [received, registering, registered, deploying, ...rest] = chain.toVerifying();
  const failed = fixture.verification.checks.filter((check) => !check.passed);
  const retry: ChainStep[] = [
    {
      status: 'deploying',
      write: () =>
        chain.fail('deploy', {
          code: 'DEPENDENCY.UNAVAILABLE',
          message: 'Cloud Run: 503 UNAVAILABLE: the service is temporarily unavailable',
        }),
    },
    { status: 'deploying', write: () => chain.claim('deploy') },
  ];
  return [
    ...[received, registering, registered, deploying].filter(isStep),
    ...retry,
    ...rest,
    {
      status: 'failed',
      write: () =>
        chain.fail(
          'verify',
          {
            code: 'VERIFY.FAILED',
            message: `${failed.length} of ${fixture.verification.checks.length} checks failed: ${failed
              .map((check) => `${check.name} (${check.detail ?? ''})`)
              .join('; ')}; traffic stays on the previous revision`,
          },
          { permanent: true, patch: { verification: fixture.verification } },
        ),
    },
  ];
}

/** Runs every step in order; returns the last document. */
export async function walk(steps: readonly ChainStep[]): Promise<RunDocument> {
  let last: RunDocument | undefined;
  for (const step of steps) last = await step.write();
  if (last === undefined) throw new Error('no steps to walk');
  return last;
}

function isStep(step: ChainStep | undefined): step is ChainStep {
  return step !== undefined;
}
