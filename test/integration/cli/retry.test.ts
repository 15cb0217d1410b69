/**
 * `recdeploy retry` as a real child process (and in process) on a real run
 * store and bus file (operator-stack.ts): what it reopens, the message it
 * publishes, and what it refuses without changing anything.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { runKey } from '@recdeploy/shared';
import { trainingCompletedOf } from '@recdeploy/shared/chain';
import { sampleIdentity } from '../../fixtures/runs.js';
import { decodeData } from '../../support/push-receiver.js';
import { completeStep, liveRun, recdeploy, recdeployProcess } from './cli-harness.js';
import { OperatorStack } from './operator-stack.js';

const SERVICE = 'rec-recs-home';

describe('recdeploy retry', function () {
  this.timeout(60_000);
  let stack: OperatorStack;

  beforeEach(async () => {
    stack = await OperatorStack.open();
  });
  afterEach(() => stack.close());

  it('starts a failed run again at its failed step and publishes its message', async () => {
    const failed = await stack.failedInRegister();
    const { code, stdout, stderr } = await recdeployProcess([
      'retry',
      failed.runId,
      '--data-dir',
      stack.dataDir,
    ]);
    assert.equal(code, 0, stderr);
    const lines = stdout.trimEnd().split('\n');
    assert.deepEqual(lines.slice(0, 3), [
      `run ${failed.runId}: its register step starts again, as attempt 2`,
      `  was failed: ${failed.statusReason}`,
      '  now received: waiting for its register step',
    ]);
    assert.match(
      lines[3] ?? '',
      new RegExp(
        `^ {2}published training-completed message \\d+ to the local bus ${path.join(stack.dataDir, 'bus.db')}$`,
      ),
    );
    assert.equal(stderr, `follow it with: recdeploy status ${failed.runId} --watch\n`);

    await stack.receiver.waitFor(
      () => stack.receiver.on('/register').length === 1,
      'the push to register',
    );
    const [push] = stack.receiver.on('/register');
    assert.ok(push);
    assert.equal(push.body.message.attributes.run_id, failed.runId);
    assert.deepEqual(decodeData(push), trainingCompletedOf(failed));
    const stored = await stack.store.getRun(failed.runId);
    assert.equal(stored?.status, 'received');
    assert.equal(stored?.steps.register.status, 'pending');
    assert.equal(stored?.steps.register.attempts, 1, 'the next attempt counts on');
    assert.match(
      stored?.history.at(-1)?.reason ?? '',
      /^retry of the register step requested by .+ via recdeploy retry$/,
    );
  });

  it('--artifact-uri: retries register with the corrected artifact; --json reports it', async () => {
    const failed = await stack.failedInRegister();
    const corrected = 'gs://models/recs-home/1b/pushed_model';
    const { code, stdout, stderr } = await recdeployProcess([
      'retry',
      failed.runId,
      '--artifact-uri',
      corrected,
      '--json',
      '--data-dir',
      stack.dataDir,
    ]);
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as Record<string, unknown>;
    assert.deepEqual(
      {
        action: report.action,
        step: report.step,
        attempt: report.attempt,
        previousStatus: report.previousStatus,
        status: report.status,
        queued: report.queued,
      },
      {
        action: 'retry',
        step: 'register',
        attempt: 2,
        previousStatus: 'failed',
        status: 'received',
        queued: false,
      },
    );
    await stack.receiver.waitFor(() => stack.receiver.on('/register').length === 1, 'the push');
    const [push] = stack.receiver.on('/register');
    assert.ok(push);
    assert.equal((decodeData(push) as { artifact_uri: string }).artifact_uri, corrected);
    assert.equal((await stack.store.getRun(failed.runId))?.artifactUri, corrected);
  });

  it('refuses what the run’s state rules out (exit 3) and bad input (exit 2), changing nothing', async () => {
    const live = await liveRun(stack.store, sampleIdentity(), {
      runtime: 'ann-serving',
      service: SERVICE,
      revision: `${SERVICE}-r1`,
      url: 'http://127.0.0.1:40000',
    });
    const refused = await recdeployProcess(['retry', live.runId, '--data-dir', stack.dataDir]);
    assert.equal(refused.code, 3);
    assert.equal(refused.stdout, '');
    assert.equal(refused.stderr, `recdeploy: run ${live.runId} is live: nothing to retry\n`);

    const failed = await stack.failedInRegister(sampleIdentity({ trainingRunId: 'train-2' }));
    const badUri = await recdeployProcess([
      'retry',
      failed.runId,
      '--artifact-uri',
      'gs://models/runs/../other',
      '--data-dir',
      stack.dataDir,
    ]);
    assert.equal(badUri.code, 2);
    assert.match(
      badUri.stderr,
      /^recdeploy: --artifact-uri gs:\/\/models\/runs\/\.\.\/other would be refused: \/artifact_uri: does not have the expected form \(.*no empty, "\." or "\.\." path segment/,
    );
    assert.equal(badUri.stderr.split('\n').length, 2, 'one line, no stack trace');

    const unknown = await recdeploy('retry', 'recs-home-train-02', '--data-dir', stack.dataDir);
    assert.equal(unknown.code, 1);
    assert.equal(
      unknown.stderr,
      `recdeploy: run recs-home-train-02 not found in ${path.join(stack.dataDir, 'runs.db')}; did you mean recs-home-train-2, recs-home-train-001?`,
    );
    assert.equal(await stack.pushesAfterAWhile(), 0, 'nothing was published');
    assert.equal((await stack.store.getRun(failed.runId))?.status, 'failed');
    assert.deepEqual(await stack.store.getRun(live.runId), live);
  });

  it('without a running stack: refuses (exit 1) unless --queue, which leaves it for the next start', async () => {
    const failed = await stack.failedInRegister();
    stack.stopStack();
    const refused = await recdeploy('retry', failed.runId, '--data-dir', stack.dataDir);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^recdeploy: no local stack is running on .*or pass --queue to retry it anyway$/,
    );
    assert.equal((await stack.store.getRun(failed.runId))?.status, 'failed', 'not reopened');

    const queued = await recdeploy('retry', failed.runId, '--queue', '--data-dir', stack.dataDir);
    assert.equal(queued.code, 0, queued.stderr);
    assert.match(
      queued.stderr,
      /no local stack is running: the message is delivered when one starts$/,
    );
    await stack.receiver.waitFor(
      () => stack.receiver.on('/register').length === 1,
      'the queued push',
    );
  });

  it('re-drives a run that stopped moving: hands its step on again, unless an attempt holds it', async () => {
    const identity = sampleIdentity({ trainingRunId: 'train-5', runNumber: 5 });
    await stack.store.createRun(identity);
    const runId = runKey(identity);
    // Registered, but its model-registered message was lost: nothing will deploy it.
    await completeStep(stack.store, runId, 'register', {
      registry: { model: 'local/models/recs-home', version: '5' },
    });
    const { code, stdout, stderr } = await recdeployProcess([
      'retry',
      runId,
      '--data-dir',
      stack.dataDir,
    ]);
    assert.equal(code, 0, stderr);
    assert.equal(
      stdout.split('\n')[0],
      `run ${runId}: no attempt held its deploy step, so the step was handed on again (attempt 1 next)`,
    );
    await stack.receiver.waitFor(() => stack.receiver.on('/deploy').length === 1, 'the push');
    assert.equal(stack.receiver.on('/deploy')[0]?.body.message.attributes.run_id, runId);

    await stack.store.claimStep({ runId, step: 'deploy', owner: 'deploy-1', leaseMs: 60_000 });
    const busy = await recdeploy('retry', runId, '--data-dir', stack.dataDir);
    assert.equal(busy.code, 3);
    assert.match(
      busy.stderr,
      new RegExp(
        `^recdeploy: run ${runId} is deploying and an attempt of its deploy step is running .*follow it with recdeploy status ${runId} --watch$`,
      ),
    );
    assert.equal(await stack.pushesAfterAWhile(), 1, 'no second hand-off');
  });
});
