/**
 * `recdeploy publish` for a run that already exists, as a real child process
 * on a real run store and bus file (operator-stack.ts): the stack would drop
 * the message, so publish refuses (exit 3) saying what happened to the run
 * and which command to use, publishes nothing, and publishes it as a
 * duplicate delivery only with --force.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTrainingCompletedV1, type TrainingCompletedV1 } from '@recdeploy/events';
import type { RunDocument } from '@recdeploy/shared';
import { runIdentityOf } from '@recdeploy/shared/chain';
import type { PublishReport } from '../../../cli/src/commands/publish.js';
import { decodeData } from '../../support/push-receiver.js';
import { liveRun, recdeploy, recdeployProcess } from './cli-harness.js';
import { OperatorStack } from './operator-stack.js';

const EXAMPLE = fileURLToPath(
  new URL('../../../events/examples/training-completed.v1.json', import.meta.url),
);
const RUN_ID = 'ep-1-run-42';

function exampleMessage(): TrainingCompletedV1 {
  const parsed = parseTrainingCompletedV1(JSON.parse(fs.readFileSync(EXAMPLE, 'utf8')));
  if (!parsed.ok) throw new Error(parsed.rejection.reason);
  return parsed.value;
}

describe('recdeploy publish for a run that already exists', function () {
  this.timeout(60_000);
  let stack: OperatorStack;

  beforeEach(async () => {
    stack = await OperatorStack.open();
  });
  afterEach(() => stack.close());

  /** The example's run, failed in register as register fails it. */
  async function exampleFailedInRegister(): Promise<RunDocument> {
    return stack.failedInRegister(runIdentityOf(exampleMessage()));
  }

  function writeMessage(changes: Partial<TrainingCompletedV1>): string {
    const file = path.join(stack.dataDir, 'event.json');
    fs.writeFileSync(file, JSON.stringify({ ...exampleMessage(), ...changes }));
    return file;
  }

  it('a failed run: exit 3, what happened and `recdeploy retry`; nothing published', async () => {
    const failed = await exampleFailedInRegister();
    const { code, stdout, stderr } = await recdeployProcess([
      'publish',
      EXAMPLE,
      '--data-dir',
      stack.dataDir,
    ]);
    assert.equal(code, 3);
    assert.equal(stdout, '');
    assert.deepEqual(stderr.trimEnd().split('\n'), [
      `recdeploy: run ${RUN_ID} already exists, so the stack would drop this message (the register step keeps a run's first message): not published`,
      `  status failed: ${failed.statusReason}`,
      `  to retry it: recdeploy retry ${RUN_ID}`,
      `  pass --force to publish it anyway, as a duplicate delivery of run ${RUN_ID}`,
    ]);
    assert.equal(await stack.pushesAfterAWhile(), 0);
    assert.equal(
      stack.bus.stats().subscriptions.every((s) => s.pending === 0),
      true,
    );
  });

  it('a corrected artifact: names `retry --artifact-uri`, which then retries with it', async () => {
    await exampleFailedInRegister();
    const corrected = 'gs://recs-models/serving/pushed_model/1768843000';
    const file = writeMessage({ artifact_uri: corrected });
    const refused = await recdeploy('publish', file, '--data-dir', stack.dataDir);
    assert.equal(refused.code, 3);
    const advice = `recdeploy retry ${RUN_ID} --artifact-uri ${corrected}`;
    assert.equal(
      refused.stderr.split('\n')[2],
      `  to retry it with this message's artifact: ${advice}`,
    );

    const retried = await recdeployProcess([
      ...advice.split(' ').slice(1),
      '--data-dir',
      stack.dataDir,
    ]);
    assert.equal(retried.code, 0, retried.stderr);
    await stack.receiver.waitFor(() => stack.receiver.on('/register').length === 1, 'the push');
    const [push] = stack.receiver.on('/register');
    assert.ok(push);
    assert.equal((decodeData(push) as TrainingCompletedV1).artifact_uri, corrected);
  });

  it('replaced or live: `recdeploy deploy`, or nothing to do', async () => {
    const serving = {
      runtime: 'ann-serving' as const,
      service: 'rec-ep-1',
      url: 'http://127.0.0.1:40000',
    };
    await liveRun(stack.store, runIdentityOf(exampleMessage()), {
      ...serving,
      revision: 'rec-ep-1-r42',
    });
    const live = await recdeploy('publish', EXAMPLE, '--data-dir', stack.dataDir);
    assert.equal(live.code, 3);
    assert.deepEqual(live.stderr.split('\n').slice(1, 3), [
      '  status live',
      '  it is live (revision rec-ep-1-r42, 100% of service rec-ep-1): nothing to do',
    ]);

    await liveRun(
      stack.store,
      runIdentityOf({ ...exampleMessage(), training_run_id: 'run-43', run_number: 43 }),
      { ...serving, revision: 'rec-ep-1-r43' },
    );
    const replaced = await recdeploy('publish', EXAMPLE, '--data-dir', stack.dataDir);
    assert.equal(replaced.code, 3);
    assert.match(
      replaced.stderr.split('\n')[1] ?? '',
      /^ {2}status replaced: replaced by run ep-1-run-43: /,
    );
    assert.equal(replaced.stderr.split('\n')[2], `  to serve it: recdeploy deploy ${RUN_ID}`);
    assert.equal(await stack.pushesAfterAWhile(), 0);
  });

  it('--force publishes it, saying it is a duplicate delivery', async () => {
    await exampleFailedInRegister();
    const { code, stdout, stderr } = await recdeployProcess([
      'publish',
      EXAMPLE,
      '--force',
      '--json',
      '--data-dir',
      stack.dataDir,
    ]);
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as PublishReport;
    assert.deepEqual(report.duplicateOf, { runId: RUN_ID, status: 'failed' });
    assert.equal(
      stderr,
      `run ${RUN_ID} already exists (failed): the stack treats this message as a duplicate delivery and registers nothing again\n`,
    );
    await stack.receiver.waitFor(() => stack.receiver.on('/register').length === 1, 'the push');
    assert.equal(stack.receiver.on('/register')[0]?.body.message.messageId, report.messageId);
  });
});
