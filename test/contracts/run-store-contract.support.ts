/**
 * What the parts of the RunStore contract share (run-store-*.contract.ts): the
 * sample run's id, the chain's steps, and walking a run through its steps.
 */
import assert from 'node:assert/strict';
import type { RunDocument, RunIdentity, RunPatch, RunStore, StepName } from '@recdeploy/shared';
import {
  T0,
  at,
  completeAsChain,
  deployedTo,
  registeredAs,
  sampleIdentity,
} from '../fixtures/runs.js';

/** The run id of sampleIdentity(). */
export const RUN = 'recs-home-train-001';
export const STEPS = ['register', 'deploy', 'verify'] as const;

export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, code);
    return true;
  });
}

/** Creates the sample run in `store` and claims + completes `steps` in order. */
export async function runThroughIn(
  store: RunStore,
  steps: readonly ('register' | 'deploy' | 'verify')[],
): Promise<RunDocument> {
  let run = (await store.createRun(sampleIdentity(), { now: T0, eventId: 'evt-create' })).run;
  let t = 0;
  for (const step of steps) {
    const claim = await store.claimStep({
      runId: RUN,
      step,
      owner: 'w',
      leaseMs: 60_000,
      now: at((t += 10)),
    });
    assert.equal(claim.kind, 'claimed', step);
    run = (await completeAsChain(store, { runId: RUN, step, owner: 'w', now: at((t += 10)) })).run;
  }
  return run;
}

/** walkRunIn's arguments after the store. */
export type WalkRunArgs = [
  identity: RunIdentity,
  steps: readonly StepName[],
  options?: {
    readonly startMs?: number;
    readonly revision?: string;
    readonly service?: string;
  },
];

/**
 * Creates a run of `identity` at T0 + startMs and claims and completes
 * `steps` in order, 10 ms apart, with the register and deploy patches a
 * real chain reports (a registry version, a revision of `service`).
 */
export async function walkRunIn(
  store: RunStore,
  ...[identity, steps, options = {}]: WalkRunArgs
): Promise<RunDocument> {
  let t = options.startMs ?? 0;
  let run = (await store.createRun(identity, { now: at(t) })).run;
  const patches: Partial<Record<StepName, RunPatch>> = {
    register: registeredAs(identity.runNumber),
    deploy: deployedTo(
      options.service ?? 'recs-home',
      options.revision ?? `recs-home-${identity.trainingRunId}`,
    ),
  };
  for (const step of steps) {
    const claim = await store.claimStep({
      runId: run.runId,
      step,
      owner: 'w',
      leaseMs: 60_000,
      now: at((t += 10)),
    });
    assert.equal(claim.kind, 'claimed', `${run.runId} ${step}`);
    const patch = patches[step];
    run = (
      await completeAsChain(store, {
        runId: run.runId,
        step,
        owner: 'w',
        now: at((t += 10)),
        ...(patch === undefined ? {} : { patch }),
      })
    ).run;
  }
  return run;
}
