/**
 * How a run's model is served: the container the registry describes and the
 * revision the platform deploys. Both are derived only from the run and the
 * configuration, so a retried step produces byte-identical requests.
 */
import type { ChainConfig } from '../config/chain-config.js';
import { replayFor, replaySampleUri } from '../config/replay-policy-config.js';
import { checkDeploymentPolicy, servingSettingsOf } from '../domain/deployment-policy.js';
import type { RunIdentity } from '../domain/run-document.js';
import type { RuntimeChoice } from '../domain/routing-policy.js';
import { revisionNameFor, serviceNameFor, tagFor } from '../domain/serving-names.js';
import type { RegistryContainerSpec } from '../ports/model-registry.port.js';
import type { RevisionSpec } from '../ports/serving-platform.port.js';

export { DEFAULT_RESOURCES } from '../domain/deployment-policy.js';

/** TF Serving's REST port; ann-serving listens on the same one. */
export const SERVING_PORT = 8501;

export function containerEnv(
  config: ChainConfig,
  run: Pick<RunIdentity, 'artifactUri' | 'trainingRunId'>,
  choice: RuntimeChoice,
  sampling?: ReplaySampling,
): Record<string, string> {
  const env: Record<string, string> = { MODEL_NAME: config.modelName };
  if (choice.runtime === 'tf-serving') {
    // The native image's start script downloads the versioned SavedModel from MODEL_PATH.
    env.MODEL_PATH = run.artifactUri;
  } else {
    env.MODEL_PATH = run.artifactUri;
    env.SERVING_MODE = choice.mode ?? 'ann';
    // Sent back in every answer's X-Recdeploy-Run-Id, which verify checks.
    env.TRAINING_RUN_ID = run.trainingRunId;
    if (sampling !== undefined) {
      const uri = replaySampleUri(config.replay, sampling.endpoint, sampling.revision);
      if (uri !== undefined) {
        // Only ann-serving keeps a sample; verify replays it against the next candidate.
        env.REPLAY_SAMPLE_SIZE = String(replayFor(config.replay, sampling.endpoint).sampleSize);
        env.REPLAY_SAMPLE_URI = uri;
        env.REPLAY_PERSIST_INTERVAL_S = String(config.replay.persistIntervalS);
      }
    }
  }
  return env;
}

/** Which revision a container runs as, for the sample it keeps (revisions only, not the registry). */
export interface ReplaySampling {
  readonly endpoint: string;
  readonly revision: string;
}

export function registryContainer(
  config: ChainConfig,
  run: Pick<RunIdentity, 'artifactUri' | 'trainingRunId'>,
  choice: RuntimeChoice,
): RegistryContainerSpec {
  return {
    imageUri: config.images[choice.runtime],
    env: containerEnv(config, run, choice),
    port: SERVING_PORT,
    predictRoute: `/v1/models/${config.modelName}:predict`,
    healthRoute: `/v1/models/${config.modelName}`,
  };
}

export function serviceFor(config: ChainConfig, run: Pick<RunIdentity, 'modelEndpointId'>): string {
  return serviceNameFor(run.modelEndpointId, config.servicePrefix);
}

/**
 * The revision a run is deployed as: its `deployment_config` over the
 * defaults, within the operator's deployment policy.
 * @throws PermanentError `DEPLOY.OUTSIDE_POLICY` when the run asks for more
 * than the policy allows (never clamped: the run fails with the reasons).
 */
export function revisionSpecFor(
  config: ChainConfig,
  run: RunIdentity & { readonly runId: string },
  choice: RuntimeChoice,
): RevisionSpec {
  checkDeploymentPolicy(config.deploymentPolicy, run.modelEndpointId, run.deploymentConfig);
  const service = serviceFor(config, run);
  const revision = revisionNameFor(service, run);
  return {
    service,
    revision,
    tag: tagFor(run),
    runtime: choice.runtime,
    image: config.images[choice.runtime],
    env: containerEnv(config, run, choice, { endpoint: run.modelEndpointId, revision }),
    containerPort: SERVING_PORT,
    startupProbePath: startupProbePathFor(choice.runtime, config.modelName),
    resources: servingSettingsOf(run.deploymentConfig),
    ...(run.deploymentConfig?.public === undefined ? {} : { public: run.deploymentConfig.public }),
    labels: {
      managed_by: 'recdeploy',
      runtime: choice.runtime,
      run_number: String(run.runNumber),
    },
  };
}

/**
 * What the platform polls before a revision counts as ready. ann-serving
 * listens while its model still loads and answers the model-status path with
 * 200 (state LOADING) then; only `/health` waits for AVAILABLE, so a revision
 * probed on the status path would get traffic it cannot answer. TF Serving
 * opens its REST port only once the model is loaded, so its status path is a
 * faithful probe.
 */
export function startupProbePathFor(runtime: RuntimeChoice['runtime'], modelName: string): string {
  return runtime === 'ann-serving' ? '/health' : `/v1/models/${modelName}`;
}
