/**
 * `recdeploy deploy` as a real child process (and in process) on a real run
 * store and bus file (operator-stack.ts): an on-demand deploy of a registered
 * run, what it publishes, and what it refuses.
 */
import assert from 'node:assert/strict';
import { sampleIdentity } from '../../fixtures/runs.js';
import { decodeData } from '../../support/push-receiver.js';
import { liveRun, recdeploy, recdeployProcess } from './cli-harness.js';
import { OperatorStack } from './operator-stack.js';

const SERVICE = 'rec-recs-home';

describe('recdeploy deploy', function () {
  this.timeout(60_000);
  let stack: OperatorStack;

  beforeEach(async () => {
    stack = await OperatorStack.open();
  });
  afterEach(() => stack.close());

  it('an unblessed skipped run: refused without --allow-unblessed (exit 3), deployed with it', async () => {
    const skipped = await stack.skippedUnblessed();
    const refused = await recdeployProcess(['deploy', skipped.runId, '--data-dir', stack.dataDir]);
    assert.equal(refused.code, 3);
    assert.equal(
      refused.stderr,
      `recdeploy: run ${skipped.runId} was not blessed by the Evaluator; deploy it anyway with --allow-unblessed\n`,
    );
    assert.equal(await stack.pushesAfterAWhile(), 0, 'nothing was published');
    assert.deepEqual(await stack.store.getRun(skipped.runId), skipped, 'nothing was written');

    const { code, stdout, stderr } = await recdeployProcess([
      'deploy',
      skipped.runId,
      '--allow-unblessed',
      '--data-dir',
      stack.dataDir,
    ]);
    assert.equal(code, 0, stderr);
    assert.deepEqual(stdout.trimEnd().split('\n').slice(0, 4), [
      `run ${skipped.runId}: deployed on demand: its deploy step starts (attempt 1), then verify`,
      `  was skipped: ${skipped.statusReason}`,
      '  not blessed by the Evaluator: deployed anyway, as --allow-unblessed asked',
      '  now registered: waiting for its deploy step',
    ]);
    await stack.receiver.waitFor(
      () => stack.receiver.on('/deploy').length === 1,
      'the push to deploy',
    );
    const [push] = stack.receiver.on('/deploy');
    assert.ok(push);
    assert.equal(push.body.message.attributes.run_id, skipped.runId);
    assert.deepEqual((decodeData(push) as { registry: unknown }).registry, {
      model: 'local/models/recs-home',
      version: '7',
    });
    const stored = await stack.store.getRun(skipped.runId);
    assert.equal(stored?.status, 'registered');
    assert.equal(stored?.manualDeploy?.allowUnblessed, true);
    assert.equal(stored?.manualDeploy?.fromStatus, 'skipped');
  });

  it('a replaced run goes back through deploy; a run never registered is refused', async () => {
    const serving = {
      runtime: 'ann-serving' as const,
      service: SERVICE,
      url: 'http://127.0.0.1:40000',
    };
    const one = await liveRun(stack.store, sampleIdentity(), {
      ...serving,
      revision: `${SERVICE}-r1`,
    });
    await liveRun(stack.store, sampleIdentity({ trainingRunId: 'train-2', runNumber: 2 }), {
      ...serving,
      revision: `${SERVICE}-r2`,
    });
    assert.equal((await stack.store.getRun(one.runId))?.status, 'replaced');
    const again = await recdeploy('deploy', one.runId, '--json', '--data-dir', stack.dataDir);
    assert.equal(again.code, 0, again.stderr);
    const report = JSON.parse(again.stdout) as {
      action: string;
      previousStatus: string;
      status: string;
    };
    assert.deepEqual(
      [report.action, report.previousStatus, report.status],
      ['deploy', 'replaced', 'registered'],
    );
    await stack.receiver.waitFor(
      () => stack.receiver.on('/deploy').length === 1,
      'the push to deploy',
    );

    const failed = await stack.failedInRegister(
      sampleIdentity({ trainingRunId: 'train-3', runNumber: 3 }),
    );
    const never = await recdeploy('deploy', failed.runId, '--data-dir', stack.dataDir);
    assert.equal(never.code, 3);
    assert.equal(
      never.stderr,
      `recdeploy: run ${failed.runId} was never registered (status failed: ${failed.statusReason}); retry it first: recdeploy retry ${failed.runId}`,
    );
  });

  it('--help states the exit codes', async () => {
    const { code, stdout } = await recdeploy('deploy', '--help');
    assert.equal(code, 0);
    assert.match(stdout, /--allow-unblessed/);
    assert.match(
      stdout,
      /Exit codes: 0 the deploy step starts; 1 not done .* 3 refused by the run's state/s,
    );
  });
});
