/**
 * The verify step: model-deployed → checks against the new revision's tag URL
 * → pass: move 100% of traffic to it, the run is live (or, when the rollout
 * plan is a canary, its first step's share: the run is `canary`, see
 * start-canary.ts and advance-canary.ts); fail: traffic stays
 * where it was, every failed check is recorded, the run is failed. Either way
 * deployment-finished announces the outcome and the service lease is freed.
 */
import { parseModelDeployed } from '@recdeploy/events';
import { PermanentError, TransientError } from '../errors.js';
import { failpoint } from '../failpoints.js';
import {
  verificationPassed,
  type RunDocument,
  type ServingRef,
  type Verification,
} from '../domain/run-document.js';
import { resolveRolloutPlan } from '../domain/rollout-plan.js';
import { findSupersedingRun } from '../domain/run-supersession.js';
import type { ChainDeps } from './chain-deps.js';
import { publishDeploymentFinished } from './chain-events.js';
import { claimStepOfHandOff } from './hand-off.js';
import { checkRevision } from './verify-checks.js';
import { markServingRun } from './serving-alias.js';
import { assertNoOtherCanary, startCanaryRollout, stableRevisionOf } from './start-canary.js';
import { failAttempt, withHeartbeat, type Heartbeat, type StepAttempt } from './step-attempt.js';

export type VerifyDeps = Pick<
  ChainDeps,
  | 'config'
  | 'logger'
  | 'runStore'
  | 'eventBus'
  | 'platform'
  | 'artifacts'
  | 'verifier'
  | 'instanceId'
  | 'registry'
>;

/** Handles one delivery from the model-deployed topic. Resolves = acknowledge. */
export async function handleModelDeployed(deps: VerifyDeps, cloudEvent: unknown): Promise<void> {
  const handOff = await claimStepOfHandOff(
    deps,
    cloudEvent,
    parseModelDeployed(cloudEvent),
    'verify',
    'model-deployed',
  );
  if (handOff === undefined) return;
  const { claim, logger } = handOff;
  if (claim.kind !== 'claimed') {
    // The outcome may not have been announced if the process died right after
    // committing it: announce it again (deployment-finished is at-least-once).
    if (endedByVerify(claim.run)) await publishDeploymentFinished(deps, claim.run);
    return;
  }
  const attempt = claim.attempt;
  await withHeartbeat({ ...deps, leases: deps.config.leases }, attempt, (heartbeat) =>
    verify({ ...deps, logger }, attempt, heartbeat),
  );
}

async function verify(deps: VerifyDeps, attempt: StepAttempt, heartbeat: Heartbeat): Promise<void> {
  const run = attempt.run;
  const serving = run.serving;
  let ended: RunDocument;
  try {
    if (serving?.revision === undefined || serving.tagUrl === undefined) {
      throw new PermanentError(
        'VERIFY.FAILED',
        `run ${run.runId} has no deployed revision to verify`,
      );
    }
    const lease = await deps.runStore.acquireServiceLease({
      service: serving.service,
      runId: run.runId,
      ttlMs: deps.config.leases.ttlMs,
    });
    if (!lease.acquired) {
      throw new TransientError(
        'RUN.STEP_BUSY',
        `service ${serving.service} is held by run ${lease.holder} until ${lease.expiresAt}`,
      );
    }
    heartbeat.holdService(serving.service);
    // Checked before any check runs: a run outside the policy fails at once.
    const plan = resolveRolloutPlan(
      deps.config.rollout,
      run.modelEndpointId,
      run.deploymentConfig?.rollout,
    );
    await assertNoOtherCanary(deps, run, serving.service);
    const superseding = findSupersedingRun(
      run,
      await deps.runStore.listRuns({ modelEndpointId: run.modelEndpointId, limit: 500 }),
    );
    const before = await deps.platform.describe(serving.service);
    // Cloud Run serves a new service's first revision from its creation (a
    // service's traffic always sums to 100%), so serving alone proves nothing:
    // only checks an earlier attempt saved, passed, before it moved traffic.
    const servesAlready = before?.liveRevision === serving.revision;
    if (servesAlready && passedEarlier(run)) {
      // Traffic moves only after verification passed, so an earlier attempt of
      // this run passed and moved it, then stopped before recording it.
      ended = await goLive(
        deps,
        attempt,
        { ...serving, revision: serving.revision },
        {
          // The checks the earlier attempt saved before it moved the traffic.
          ...run.verification,
          checks: [
            ...(run.verification?.checks ?? []),
            {
              name: 'traffic_moved_by_earlier_attempt',
              passed: true,
              detail: `attempt ${attempt.attempt} found revision ${serving.revision} already serving 100%: an earlier attempt verified it and moved the traffic, then stopped before recording it`,
            },
          ],
        },
      );
    } else if (superseding !== undefined) {
      await deps.platform.discardRevision(serving.service, serving.revision);
      ended = await failAttempt(
        deps.runStore,
        deps.logger,
        attempt,
        new PermanentError(
          'RUN.SUPERSEDED',
          `run ${superseding.runId} (run number ${superseding.runNumber}) went live meanwhile; traffic not moved`,
        ),
        { endAs: 'skipped' },
      );
    } else {
      const outcome = await checkRevision(
        deps,
        run,
        { ...serving, revision: serving.revision, tagUrl: serving.tagUrl },
        before,
      );
      if (outcome.passed) {
        // Kept before traffic moves: if this attempt dies after moving it, the
        // attempt that takes over records these checks, not just that it found
        // the revision serving.
        await deps.runStore.renewStepLease({
          runId: run.runId,
          step: attempt.step,
          owner: attempt.owner,
          leaseMs: deps.config.leases.ttlMs,
          patch: { verification: outcome.verification },
        });
        const stable = stableRevisionOf(run, serving.revision, before);
        ended =
          plan.strategy === 'canary' && stable !== undefined
            ? await startCanaryRollout(
                deps,
                attempt,
                { ...serving, revision: serving.revision },
                outcome.verification,
                plan,
                stable,
              )
            : await goLive(
                deps,
                attempt,
                { ...serving, revision: serving.revision },
                outcome.verification,
              );
      } else {
        // The only revision of a new service keeps its traffic: there is
        // nothing else to serve, and it stays private until a run is promoted.
        if (!servesAlready) await deps.platform.discardRevision(serving.service, serving.revision);
        ended = await failAttempt(
          deps.runStore,
          deps.logger,
          attempt,
          verificationFailed(outcome.verification, servesAlready),
          {
            patch: { verification: outcome.verification },
          },
        );
      }
    }
  } catch (error) {
    // Passing failures rethrow here and keep the lease for the next attempt.
    ended = await failAttempt(deps.runStore, deps.logger, attempt, error);
  }
  if (serving !== undefined) {
    await heartbeat.letGoService();
    await deps.runStore.releaseServiceLease(serving.service, run.runId);
  }
  if (ended.status === 'live') await failpoint('verify.after-complete');
  await publishDeploymentFinished(deps, ended);
}

/**
 * Moves 100% of traffic to the verified revision, then records what the
 * platform observes serving and completes the step in one store transaction:
 * the run becomes live and the run it replaced becomes `replaced` at the
 * same moment, so no reader ever sees two live runs for the service.
 */
async function goLive(
  deps: VerifyDeps,
  attempt: StepAttempt,
  serving: ServingRef & { revision: string },
  verification: Verification,
): Promise<RunDocument> {
  await failpoint('verify.before-traffic');
  const promoted = await deps.platform.promote(serving.service, serving.revision);
  await failpoint('verify.after-traffic');
  const observed = (await deps.platform.describe(serving.service)) ?? promoted;
  deps.logger.info('verified; 100% of traffic moved', {
    revision: serving.revision,
    url: observed.serviceUrl,
    observedLive: observed.liveRevision ?? null,
  });
  const { changedRuns } = await deps.runStore.recordServing({
    service: serving.service,
    modelEndpointId: attempt.run.modelEndpointId,
    observed,
    cause: `run ${attempt.run.runId} verified and promoted`,
    eventId: attempt.eventId,
    complete: {
      runId: attempt.run.runId,
      step: attempt.step,
      owner: attempt.owner,
      eventId: attempt.eventId,
      patch: { verification, serving: { ...serving, url: observed.serviceUrl } },
    },
  });
  const stored =
    changedRuns.find((run) => run.runId === attempt.run.runId) ??
    (await deps.runStore.getRun(attempt.run.runId));
  if (stored === undefined) throw new Error(`run ${attempt.run.runId} vanished`);
  await markServingRun(deps, stored);
  return stored;
}

function verificationFailed(verification: Verification, onlyRevision: boolean): PermanentError {
  const failed = verification.checks.filter((c) => !c.passed && c.skipped !== true);
  const summary = failed.map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`).join('; ');
  const traffic = onlyRevision
    ? "it is the service's only revision, which the platform serves from the service's creation: it keeps serving until a verified run replaces it, and is not made public"
    : 'traffic stays on the previous revision';
  return new PermanentError(
    'VERIFY.FAILED',
    `${failed.length} of ${verification.checks.length} checks failed: ${summary}; ${traffic}`,
  );
}

/** Whether an earlier attempt of this run saved checks that passed (it saves them before moving traffic). */
function passedEarlier(run: RunDocument): boolean {
  return run.verification !== undefined && verificationPassed(run.verification.checks);
}

function endedByVerify(run: RunDocument): boolean {
  const step = run.steps.verify.status;
  return step === 'succeeded' || step === 'failed' || step === 'skipped';
}
