/**
 * Publishing the chain's events: the hand-offs between steps and the
 * deployment-finished output. Every message carries the run id as ordering
 * key and attribute, so subscribers can filter and order without parsing.
 */
import {
  MAX_TEXT_CHARS,
  buildDeploymentFinishedV1,
  buildModelDeployedV1,
  buildModelRegisteredV1,
  type DeploymentFinishedV1,
  type VerificationSummaryV1,
} from '@recdeploy/events';
import type { RunDocument, Verification } from '../domain/run-document.js';
import { truncateText } from '../errors.js';
import type { ChainDeps } from './chain-deps.js';

type Publisher = Pick<ChainDeps, 'eventBus' | 'config' | 'logger'>;

async function publish(deps: Publisher, topic: string, runId: string, data: object): Promise<void> {
  const messageId = await deps.eventBus.publish(topic, {
    data,
    attributes: { run_id: runId, schema_version: '1' },
    orderingKey: runId,
  });
  deps.logger.info('published', { topic, runId, messageId });
}

export async function publishModelRegistered(deps: Publisher, run: RunDocument): Promise<void> {
  if (run.registry === undefined) throw new Error(`run ${run.runId} has no registry reference`);
  await publish(
    deps,
    deps.config.runtime.topics.modelRegistered,
    run.runId,
    buildModelRegisteredV1({
      run_id: run.runId,
      registry: { model: run.registry.model, version: run.registry.version },
      registered_at: new Date().toISOString(),
    }),
  );
}

export async function publishModelDeployed(deps: Publisher, run: RunDocument): Promise<void> {
  const serving = run.serving;
  if (serving?.revision === undefined || serving.tagUrl === undefined) {
    throw new Error(`run ${run.runId} has no deployed revision`);
  }
  await publish(
    deps,
    deps.config.runtime.topics.modelDeployed,
    run.runId,
    buildModelDeployedV1({
      run_id: run.runId,
      service: serving.service,
      revision: serving.revision,
      tag_url: serving.tagUrl,
      runtime: serving.runtime,
      deployed_at: new Date().toISOString(),
    }),
  );
}

/** Announces how a run ended (live, failed, skipped, rolled_back). */
export async function publishDeploymentFinished(deps: Publisher, run: RunDocument): Promise<void> {
  const outcome = outcomeOf(run);
  if (outcome === undefined) throw new Error(`run ${run.runId} has not ended (${run.status})`);
  const fields: Omit<DeploymentFinishedV1, 'schema_version'> = {
    run_id: run.runId,
    training_run_id: run.trainingRunId,
    model_endpoint_id: run.modelEndpointId,
    outcome,
    finished_at: run.updatedAt,
    ...(run.statusReason === undefined
      ? {}
      : { reason: truncateText(run.statusReason, MAX_TEXT_CHARS) }),
    ...(outcome === 'live' && run.serving?.url !== undefined
      ? { service_url: run.serving.url }
      : {}),
    ...(run.serving?.revision === undefined ? {} : { revision: run.serving.revision }),
    ...(run.verification === undefined ? {} : { verification: summaryOf(run.verification) }),
  };
  await publish(
    deps,
    deps.config.runtime.topics.deploymentFinished,
    run.runId,
    buildDeploymentFinishedV1(fields),
  );
}

function outcomeOf(run: RunDocument): DeploymentFinishedV1['outcome'] | undefined {
  switch (run.status) {
    case 'live':
    case 'failed':
    case 'skipped':
    case 'rolled_back':
      return run.status;
    default:
      return undefined;
  }
}

function summaryOf(verification: Verification): VerificationSummaryV1 {
  return {
    passed: verification.checks.length > 0 && verification.checks.every((check) => check.passed),
    checks: verification.checks.slice(0, 100).map((check) => ({
      name: check.name,
      passed: check.passed,
      ...(check.detail === undefined ? {} : { detail: truncateText(check.detail, MAX_TEXT_CHARS) }),
    })),
    ...(verification.latencyP50Ms === undefined
      ? {}
      : { latency_p50_ms: verification.latencyP50Ms }),
    ...(verification.latencyP99Ms === undefined
      ? {}
      : { latency_p99_ms: verification.latencyP99Ms }),
    ...(verification.recallAtK === undefined ? {} : { recall_at_k: verification.recallAtK }),
  };
}
