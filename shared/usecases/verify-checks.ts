/**
 * What the verify step asks the verifier to check (verify-run.ts decides what
 * happens after): the run's bundle, its serving runtime, and the live
 * revision's replay sample, found through the platform (which revision has
 * the traffic) and the serving record (which run deployed it, hence the tag
 * URL that reaches that revision only).
 */
import { replayFor, replaySampleUri } from '../config/replay-policy-config.js';
import type { RunDocument, ServingRef, Verification } from '../domain/run-document.js';
import { PermanentError } from '../errors.js';
import type { RuntimeName, ServiceTraffic } from '../ports/serving-platform.port.js';
import type { ReplayInput } from '../verification/replay-input.js';
import { readReplaySample } from '../verification/replay-sample-source.js';
import type { ChainDeps } from './chain-deps.js';

export type CheckDeps = Pick<ChainDeps, 'config' | 'runStore' | 'artifacts' | 'verifier'>;

export async function checkRevision(
  deps: CheckDeps,
  run: RunDocument,
  serving: ServingRef & { readonly revision: string; readonly tagUrl: string },
  before: ServiceTraffic | undefined,
): Promise<{ passed: boolean; verification: Verification }> {
  const bundle = await deps.artifacts
    .openDirectory(run.artifactUri, 'ann')
    .catch((error: unknown) => {
      if ((error as { code?: unknown }).code === 'ARTIFACT.NOT_FOUND') return undefined;
      throw error;
    });
  if (bundle === undefined) {
    // Without example instances there is nothing to smoke-test: never promote blind.
    const verification: Verification = {
      checks: [
        {
          name: 'bundle_examples',
          passed: false,
          detail: `${run.artifactUri}/ann/ is missing: verification needs ann/manifest.json and ann/examples.json (example instances as a client sends them)`,
        },
      ],
    };
    return { passed: false, verification };
  }
  try {
    const { mode } = serving;
    return await deps.verifier.verify({
      tagUrl: serving.tagUrl,
      ...audienceOf(before),
      modelName: deps.config.modelName,
      bundleDir: bundle.path,
      runtime: runtimeName(serving.runtime),
      ...(mode === 'ann' || mode === 'exact' ? { mode } : {}),
      retrievalAlgorithm: run.retrievalAlgorithm,
      trainingRunId: run.trainingRunId,
      replay: await replayInputFor(deps, run, serving, before),
    });
  } finally {
    await bundle.release();
  }
}

/**
 * The live revision's sample and URL, or why there is nothing to replay:
 * sampling off, no live revision (first deploy), the candidate is live
 * already, its run or tag URL unknown, or no readable sample yet.
 */
async function replayInputFor(
  deps: CheckDeps,
  run: RunDocument,
  serving: ServingRef & { readonly revision: string },
  before: ServiceTraffic | undefined,
): Promise<ReplayInput> {
  const endpoint = run.modelEndpointId;
  const policy = replayFor(deps.config.replay, endpoint);
  if (policy.sampleSize === 0) {
    return {
      notRun: `not run: live queries are not sampled for endpoint ${endpoint} (REPLAY_SAMPLE_SIZE is 0, the default: instances can hold customer data)`,
    };
  }
  const liveRevision = before?.liveRevision;
  if (liveRevision === undefined) {
    return {
      notRun: `not run: no revision of ${serving.service} serves all its traffic (first deploy), so there are no live queries to replay`,
    };
  }
  if (liveRevision === serving.revision) {
    return { notRun: `not run: the candidate ${liveRevision} is the live revision itself` };
  }
  const record = await deps.runStore.getServingRecord(serving.service);
  const liveRunId = record?.liveRevision === liveRevision ? record.liveRunId : undefined;
  const liveRun = liveRunId === undefined ? undefined : await deps.runStore.getRun(liveRunId);
  const liveUrl = liveRun?.serving?.revision === liveRevision ? liveRun.serving.tagUrl : undefined;
  if (liveUrl === undefined) {
    return {
      notRun: `not run: the tag URL of live revision ${liveRevision} is not known (the serving record names run ${record?.liveRunId ?? 'none'} for revision ${record?.liveRevision ?? 'none'})`,
    };
  }
  const sampleUri = replaySampleUri(deps.config.replay, endpoint, liveRevision);
  if (sampleUri === undefined) {
    return { notRun: 'not run: REPLAY_SAMPLE_BASE_URI is not set' };
  }
  return readReplaySample(deps.artifacts, {
    sampleUri,
    liveRevision,
    liveUrl,
    ...(policy.minOverlap === undefined ? {} : { minOverlap: policy.minOverlap }),
  });
}

/**
 * The ID-token audience of the candidate's service, which the live revision
 * shares: what the platform reports, never derived from a tag URL's host.
 */
function audienceOf(before: ServiceTraffic | undefined): { audience?: string } {
  const audience = before?.idTokenAudience ?? before?.serviceUrl;
  return audience ? { audience } : {};
}

/** The run document stores the runtime as text; only the two we deploy can be verified. */
function runtimeName(runtime: string): RuntimeName {
  if (runtime === 'tf-serving' || runtime === 'ann-serving') return runtime;
  throw new PermanentError(
    'VERIFY.FAILED',
    `the run records an unknown serving runtime "${runtime}"`,
  );
}
