/**
 * What the retry and deploy tests run on: a real SQLite run store and a real
 * LocalEventBus file in a fresh data directory, the "stack's" bus (this test
 * process, announced in stack.json) pushing every hand-off to a push
 * receiver as the stack pushes them to its functions, and runs set up
 * through the RunStore API as the chain's steps write them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runKey, type RunDocument, type RunIdentity } from '@recdeploy/shared';
import { LocalEventBus, SqliteRunStore } from '@recdeploy/shared/local';
import { sampleIdentity } from '../../fixtures/runs.js';
import { PushReceiver } from '../../support/push-receiver.js';
import { completeStep, pretendStackRuns } from './cli-harness.js';

/** Each hand-off topic and the path its subscription pushes to. */
const HAND_OFFS = [
  ['training-completed', '/register'],
  ['model-registered', '/deploy'],
  ['model-deployed', '/verify'],
] as const;

export class OperatorStack {
  private stopPretending: (() => void) | undefined;

  private constructor(
    readonly dataDir: string,
    readonly store: SqliteRunStore,
    readonly bus: LocalEventBus,
    readonly receiver: PushReceiver,
  ) {
    this.stopPretending = pretendStackRuns(dataDir);
  }

  static async open(): Promise<OperatorStack> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-cli-operator-'));
    const store = new SqliteRunStore({ file: path.join(dataDir, 'runs.db') });
    const receiver = new PushReceiver();
    await receiver.start();
    const bus = new LocalEventBus({ file: path.join(dataDir, 'bus.db'), pollIntervalMs: 20 });
    for (const [topic, endpoint] of HAND_OFFS) {
      bus.createTopic(topic);
      bus.createSubscription({
        name: `${topic}-push`,
        topic,
        pushEndpoint: receiver.url(endpoint),
      });
    }
    bus.start();
    return new OperatorStack(dataDir, store, bus, receiver);
  }

  /** stack.json no longer names a live process: commands see no running stack. */
  stopStack(): void {
    this.stopPretending?.();
    this.stopPretending = undefined;
  }

  async close(): Promise<void> {
    this.stopStack();
    await this.bus.close();
    await this.store.close();
    await this.receiver.stop();
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** A run whose register step failed for good (its artifact was not there). */
  async failedInRegister(identity: RunIdentity = sampleIdentity()): Promise<RunDocument> {
    await this.store.createRun(identity);
    const runId = runKey(identity);
    await this.store.claimStep({ runId, step: 'register', owner: 'register-1', leaseMs: 60_000 });
    const { run } = await this.store.failStep({
      runId,
      step: 'register',
      owner: 'register-1',
      permanent: true,
      error: {
        code: 'ARTIFACT.NOT_FOUND',
        message: `${identity.artifactUri} has no saved_model.pb`,
      },
    });
    assert.equal(run.status, 'failed');
    return run;
  }

  /** A registered run the Evaluator did not bless, skipped as register skips it. */
  async skippedUnblessed(): Promise<RunDocument> {
    const identity = sampleIdentity({ trainingRunId: 'train-7', runNumber: 7, isBlessed: false });
    await this.store.createRun(identity);
    const runId = runKey(identity);
    await completeStep(this.store, runId, 'register', {
      registry: { model: 'local/models/recs-home', version: '7' },
    });
    const { run } = await this.store.transition({
      runId,
      to: 'skipped',
      reason: 'RUN.NOT_BLESSED: not blessed by the Evaluator; registered but not deployed',
    });
    return run;
  }

  /** How many pushes arrived after giving the bus a moment to push anything pending. */
  async pushesAfterAWhile(): Promise<number> {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return this.receiver.received.length;
  }
}
