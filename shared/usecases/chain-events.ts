/**
 * Publishing the chain's events: the hand-offs between steps and the
 * deployment-finished output. Every message carries the run id as ordering
 * key and attribute, so subscribers can filter and order without parsing.
 */
import {
  MAX_TEXT_CHARS,
  MAX_URI_CHARS,
  buildDeploymentFinishedV1,
  buildModelDeployedV1,
  buildModelRegisteredV1,
  type DeploymentFinishedV1,
  type FingerprintV1,
  type ReplayReportV1,
  type VerificationSummaryV1,
} from '@recdeploy/events';
import type { CanaryState } from '../domain/canary-state.js';
import {
  verificationPassed,
  type ModelFingerprint,
  type ReplayReport,
  type RunDocument,
  type Verification,
} from '../domain/run-document.js';
import { trafficPercent, type ServingRecord } from '../domain/serving-record.js';
import { truncateText } from '../errors.js';
import type { ChainDeps } from './chain-deps.js';
import { trainingCompletedOf } from './run-identity.js';

type Publisher = Pick<ChainDeps, 'eventBus' | 'config' | 'logger'>;
type Announcer = Publisher & Pick<ChainDeps, 'runStore'>;

async function publish(deps: Publisher, topic: string, runId: string, data: object): Promise<void> {
  const messageId = await deps.eventBus.publish(topic, {
    data,
    attributes: { run_id: runId, schema_version: '1' },
    orderingKey: runId,
  });
  deps.logger.info('published', { topic, runId, messageId });
}

/** Starts a run's register step again (reconciler, retry): the message rebuilt from its identity. */
export async function publishTrainingCompleted(deps: Publisher, run: RunDocument): Promise<void> {
  await publish(
    deps,
    deps.config.runtime.topics.trainingCompleted,
    run.runId,
    trainingCompletedOf(run),
  );
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

/**
 * Announces how a run ended (live, failed, skipped, rolled_back), with what
 * the platform observes serving on its service now (the serving record). A
 * `replaced` run is not announced: v1 has no such outcome, and the run that
 * replaced it is announced live with the same serving record. Nor is a run
 * in `canary`, which has not ended.
 */
export async function publishDeploymentFinished(deps: Announcer, run: RunDocument): Promise<void> {
  // A canary has not ended: its promotion announces it live, its abort rolled_back.
  if (run.status === 'replaced' || run.status === 'canary') return;
  const outcome = outcomeOf(run);
  if (outcome === undefined) throw new Error(`run ${run.runId} has not ended (${run.status})`);
  const record =
    run.serving === undefined
      ? undefined
      : await deps.runStore.getServingRecord(run.serving.service);
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
    ...(record === undefined ? {} : { serving_now: servingNowOf(record) }),
    ...(run.canary === undefined ? {} : { rollout: rolloutSummaryOf(run.canary) }),
  };
  await publish(
    deps,
    deps.config.runtime.topics.deploymentFinished,
    run.runId,
    buildDeploymentFinishedV1(fields),
  );
}

function rolloutSummaryOf(canary: CanaryState): NonNullable<DeploymentFinishedV1['rollout']> {
  return {
    strategy: 'canary',
    ...(canary.outcome === undefined
      ? {}
      : {
          result: canary.outcome.result,
          reason: truncateText(canary.outcome.reason, MAX_TEXT_CHARS),
        }),
    steps: canary.steps.map((step) => ({
      percent: step.percent,
      ...(step.verdict === undefined ? {} : { verdict: step.verdict }),
      ...(step.analysis === undefined
        ? {}
        : { summary: truncateText(step.analysis.summary, MAX_TEXT_CHARS) }),
    })),
  };
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

function servingNowOf(record: ServingRecord): NonNullable<DeploymentFinishedV1['serving_now']> {
  const percent = trafficPercent(record, record.liveRevision);
  return {
    service: record.service,
    ...(record.liveRevision === undefined ? {} : { revision: record.liveRevision }),
    ...(record.liveRunId === undefined ? {} : { run_id: record.liveRunId }),
    ...(record.liveRevision === undefined ? {} : { traffic_percent: percent }),
    ...(record.since === undefined ? {} : { since: record.since }),
  };
}

function summaryOf(verification: Verification): VerificationSummaryV1 {
  const { fingerprint, replay } = verification;
  return {
    passed: verificationPassed(verification.checks),
    checks: verification.checks.slice(0, 100).map((check) => ({
      name: check.name,
      passed: check.passed,
      ...(check.skipped === true ? { skipped: true } : {}),
      ...(check.detail === undefined ? {} : { detail: truncateText(check.detail, MAX_TEXT_CHARS) }),
    })),
    ...(verification.latencyP50Ms === undefined
      ? {}
      : { latency_p50_ms: verification.latencyP50Ms }),
    ...(verification.latencyP99Ms === undefined
      ? {}
      : { latency_p99_ms: verification.latencyP99Ms }),
    ...(verification.recallAtK === undefined ? {} : { recall_at_k: verification.recallAtK }),
    ...(fingerprint === undefined ? {} : { fingerprint: fingerprintSummary(fingerprint) }),
    ...(replay === undefined ? {} : { replay: replaySummary(replay) }),
  };
}

function fingerprintSummary(fingerprint: ModelFingerprint): FingerprintV1 {
  return {
    ...(fingerprint.trainingRunId === undefined
      ? {}
      : { training_run_id: fingerprint.trainingRunId }),
    id: fingerprint.id,
    query_model_sha256: fingerprint.queryModelSha256,
    candidates_sha256: fingerprint.candidatesSha256,
  };
}

function replaySummary(replay: ReplayReport): ReplayReportV1 {
  const optional = <T>(key: string, value: T | undefined) =>
    value === undefined ? {} : { [key]: value };
  return {
    sample_uri: truncateText(replay.sampleUri, MAX_URI_CHARS),
    ...optional('sampled_at', replay.sampledAt),
    ...optional('live_revision', replay.liveRevision),
    queries: replay.queries,
    k: replay.k,
    ...optional('recall_at_k', replay.recallAtK),
    ...optional('overlap_at_k', replay.overlapAtK),
    degenerate_share: replay.degenerateShare,
    candidate_latency_p50_ms: replay.candidateLatencyP50Ms,
    candidate_latency_p99_ms: replay.candidateLatencyP99Ms,
    ...optional('live_latency_p50_ms', replay.liveLatencyP50Ms),
    ...optional('live_latency_p99_ms', replay.liveLatencyP99Ms),
  };
}
