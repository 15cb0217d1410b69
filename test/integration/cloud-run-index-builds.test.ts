import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { v2 } from '@google-cloud/run';
import { PermanentError, TransientError } from '../../shared/errors.js';
import { RecordingLogger } from '../../shared/logging/recording-logger.js';
import type { IndexBuildRequest } from '../../shared/ports/index-builds.port.js';
import {
  CloudRunIndexBuilds,
  indexBuildStatusOf,
} from '../../shared/adapters/gcp/cloud-run-index-builds.js';
import { CloudRunFake, type RunJobRequestWire } from '../support/fakes/cloud-run-fake.js';
import { fakeClientOptions } from '../support/fakes/grpc-fake-server.js';

const JOB = 'projects/test-project/locations/us-central1/jobs/recdeploy-build-index';

function request(runId: string): IndexBuildRequest {
  return {
    runId,
    artifactUri: `gs://models/shop/${runId}`,
    notify: {
      topic: 'model-registered',
      message: {
        data: { run_id: runId, schema_version: 1 },
        attributes: { origin: 'index-build' },
      },
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

describe('CloudRunIndexBuilds over real gRPC to a fake Cloud Run', () => {
  let fake: CloudRunFake;
  let builds: CloudRunIndexBuilds;

  const runJobs = () => fake.requestsOf<RunJobRequestWire>('RunJob');

  function newBuilds(timeoutS?: number): CloudRunIndexBuilds {
    return new CloudRunIndexBuilds({
      jobName: JOB,
      logger: new RecordingLogger(),
      clientOptions: fakeClientOptions(fake.port),
      ...(timeoutS !== undefined && { timeoutS }),
    });
  }

  beforeEach(async () => {
    fake = new CloudRunFake();
    await fake.start();
    fake.registerJob(JOB, [{ name: 'ARTIFACT_ROOTS', value: 'gs://models' }]);
    builds = newBuilds(1_800);
  });

  afterEach(async () => {
    await builds.close();
    await fake.stop();
  });

  it('runs the job once with the run in its env, one task and the timeout', async () => {
    const status = await builds.start(request('run-7'));

    assert.deepEqual(runJobs(), [
      {
        name: JOB,
        overrides: {
          containerOverrides: [
            {
              env: [
                { name: 'RECDEPLOY_RUN_ID', value: 'run-7' },
                { name: 'ARTIFACT_URI', value: 'gs://models/shop/run-7' },
                { name: 'NOTIFY_TOPIC', value: 'model-registered' },
                {
                  name: 'NOTIFY_MESSAGE',
                  value: JSON.stringify(request('run-7').notify.message),
                },
              ],
            },
          ],
          taskCount: 1,
          timeout: { seconds: '1800' },
        },
      },
    ]);
    const [execution] = fake.allExecutions();
    assert.deepEqual(status, { state: 'running', execution: execution?.name });
    assert.match(
      execution?.name ?? '',
      /^projects\/test-project\/locations\/us-central1\/jobs\/recdeploy-build-index\/executions\//,
    );
  });

  it("leaves the timeout to the job's own setting when none is configured", async () => {
    await builds.close();
    builds = newBuilds();

    await builds.start(request('run-7'));

    assert.equal(runJobs()[0]?.overrides?.timeout, undefined);
  });

  it('does not start a second build while one runs, nor after it succeeded or failed', async () => {
    const first = await builds.start(request('run-7'));
    const name = first.execution ?? '';

    assert.deepEqual(await builds.start(request('run-7')), { state: 'running', execution: name });

    fake.setExecutionOutcome(name, 'succeeded');
    assert.deepEqual(await builds.start(request('run-7')), { state: 'succeeded', execution: name });

    await builds.start(request('run-8'));
    const other = fake.allExecutions()[1]?.name ?? '';
    fake.setExecutionOutcome(
      other,
      'failed',
      'Task recdeploy-build-index-x failed: exit code 137 (out of memory).',
    );
    assert.deepEqual(await builds.start(request('run-8')), {
      state: 'failed',
      execution: other,
      error: 'Task recdeploy-build-index-x failed: exit code 137 (out of memory).',
    });

    assert.deepEqual(
      runJobs().map((r) => r.overrides?.containerOverrides?.[0]?.env?.[0]?.value),
      ['run-7', 'run-8'],
    );
  });

  it('finds the newest execution of a run across pages, and not_found for an unknown run', async () => {
    for (const runId of ['run-1', 'run-2', 'run-3', 'run-4']) await builds.start(request(runId));
    const [, , third] = fake.allExecutions();
    fake.setExecutionOutcome(third?.name ?? '', 'failed', 'index recall 0.41 below 0.9');
    // An operator ran the job again by hand for run-3.
    const jobs = new v2.JobsClient(fakeClientOptions(fake.port));
    await jobs.runJob({
      name: JOB,
      overrides: { containerOverrides: [{ env: [{ name: 'RECDEPLOY_RUN_ID', value: 'run-3' }] }] },
    });
    await jobs.close();
    const rerun = fake.allExecutions()[4]?.name ?? '';

    assert.deepEqual(await builds.status('run-3'), { state: 'running', execution: rerun });
    assert.deepEqual(await builds.status('run-9'), { state: 'not_found' });
    const pages = fake.requestsOf<{ parent?: string; pageToken?: string }>('ListExecutions');
    assert.deepEqual(
      pages.slice(-3).map((p) => [p.parent, p.pageToken ?? '']),
      [
        [JOB, ''],
        [JOB, '2'],
        [JOB, '4'],
      ],
    );
  });

  it('reports a cancelled execution as failed with its reason', async () => {
    const { execution } = await builds.start(request('run-7'));
    fake.setExecutionOutcome(execution ?? '', 'cancelled', 'Execution was cancelled by a user.');

    assert.deepEqual(await builds.status('run-7'), {
      state: 'failed',
      execution,
      error: 'Execution was cancelled by a user.',
    });
  });

  it('after an ambiguous RunJob that did start the execution, reports it instead of running again', async () => {
    fake.failNext('RunJob', grpc.status.DEADLINE_EXCEEDED, 'deadline exceeded', true);

    const status = await builds.start(request('run-7'));

    assert.deepEqual(status, { state: 'running', execution: fake.allExecutions()[0]?.name });
    assert.equal(runJobs().length, 1);
  });

  it('after an ambiguous RunJob that started nothing, fails transiently so the delivery retries', async () => {
    fake.failNext('RunJob', grpc.status.UNKNOWN, 'connection reset');

    const error = await rejection(builds.start(request('run-7')));

    assert.ok(error instanceof TransientError);
    assert.equal(error.code, 'DEPENDENCY.UNAVAILABLE');
    assert.deepEqual(fake.allExecutions(), []);
  });

  it('names the missing job in a permanent PLATFORM.NOT_FOUND', async () => {
    await builds.close();
    builds = new CloudRunIndexBuilds({
      jobName: 'projects/test-project/locations/us-central1/jobs/missing',
      logger: new RecordingLogger(),
      clientOptions: fakeClientOptions(fake.port),
    });

    const error = await rejection(builds.start(request('run-7')));

    assert.ok(error instanceof PermanentError);
    assert.equal(error.code, 'PLATFORM.NOT_FOUND');
    assert.match(
      error.message,
      /^Cloud Run job projects\/test-project\/locations\/us-central1\/jobs\/missing does not exist \(listExecutions\)/,
    );
  });

  it('refuses a notify message larger than a Cloud Run env value before calling RunJob', async () => {
    const big = {
      ...request('run-7'),
      notify: { topic: 't', message: { data: 'x'.repeat(40_000) } },
    };

    const error = await rejection(builds.start(big));

    assert.ok(error instanceof PermanentError);
    assert.equal(error.code, 'PLATFORM.REJECTED');
    assert.match(error.message, /is 40011 bytes; a Cloud Run env value holds at most 32768/);
    assert.equal(runJobs().length, 0);
  });
});

describe('indexBuildStatusOf', () => {
  const name = `${JOB}/executions/e1`;
  const done = { seconds: '1800000000', nanos: 0 };

  it('reads a Completed condition first', () => {
    assert.deepEqual(
      indexBuildStatusOf({
        name,
        conditions: [{ type: 'Completed', state: 'CONDITION_SUCCEEDED' }],
      }),
      { state: 'succeeded', execution: name },
    );
    assert.deepEqual(
      indexBuildStatusOf({
        name,
        logUri: 'https://console.cloud.google.com/logs?e1',
        conditions: [{ type: 'Completed', state: 'CONDITION_FAILED', message: 'exit code 1' }],
      }),
      {
        state: 'failed',
        execution: name,
        error: 'exit code 1 (logs: https://console.cloud.google.com/logs?e1)',
      },
    );
  });

  it('falls back to the task counts once the execution completed', () => {
    assert.deepEqual(
      indexBuildStatusOf({ name, completionTime: done, taskCount: 1, succeededCount: 1 }),
      { state: 'succeeded', execution: name },
    );
    assert.deepEqual(
      indexBuildStatusOf({ name, completionTime: done, taskCount: 1, failedCount: 1 }),
      {
        state: 'failed',
        execution: name,
        error: `execution ${name} ended with 0 succeeded, 1 failed and 0 cancelled of 1 task(s)`,
      },
    );
  });

  it('is running until then', () => {
    assert.deepEqual(
      indexBuildStatusOf({
        name,
        runningCount: 1,
        conditions: [{ type: 'Completed', state: 'CONDITION_PENDING' }],
      }),
      { state: 'running', execution: name },
    );
  });
});
