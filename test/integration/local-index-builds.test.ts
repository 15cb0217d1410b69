import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RecordingLogger, type IndexBuildRequest } from '@recdeploy/shared';
import {
  LocalEventBus,
  LocalIndexBuilds,
  defaultIndexBuildCommand,
  isProcessAlive,
  reportIndexBuildOutcome,
  type LocalIndexBuildRecord,
} from '@recdeploy/shared/local';
import { localDataFiles } from '@recdeploy/shared/wiring';
import { writeTinyBundle } from '../support/ann/tiny-bundle.js';
import { PushReceiver, decodeData } from '../support/push-receiver.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const JOB = path.join(ROOT, 'services/ann-serving/src/index-build-job.ts');
const TOPIC = 'model-registered';

describe('LocalIndexBuilds', function () {
  this.timeout(180_000);
  let tmp = '';
  let data = '';
  let models = '';
  let receiver: PushReceiver;
  let bus: LocalEventBus;
  let logger: RecordingLogger;

  before(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'recdeploy-index-builds-'));
    data = path.join(tmp, 'data');
    models = path.join(tmp, 'models');
    await writeTinyBundle(path.join(models, 'run-1'));
    receiver = new PushReceiver();
    await receiver.start();
    // The test's own bus on the file the job publishes into: it pushes what the job published.
    bus = new LocalEventBus({ file: localDataFiles(data).eventBus, pollIntervalMs: 50 });
    bus.createTopic(TOPIC);
    bus.createSubscription({ name: 'deploy', topic: TOPIC, pushEndpoint: receiver.url('/deploy') });
    bus.start();
  });
  after(async () => {
    await bus.close();
    await receiver.stop();
    await fs.rm(tmp, { recursive: true, force: true });
  });

  function builds(command = process.execPath, env: Record<string, string> = {}): LocalIndexBuilds {
    logger = new RecordingLogger();
    return new LocalIndexBuilds({
      dir: path.join(data, 'index-builds'),
      logger,
      command: { command, args: ['--conditions=source', '--import', 'tsx', JOB], cwd: ROOT },
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        RECDEPLOY_BACKEND: 'local',
        RECDEPLOY_DATA_DIR: data,
        ARTIFACT_ROOTS: models,
        METADATA_SERVER_DETECTION: 'none',
        ...env,
      },
    });
  }

  function buildRequest(runId: string, bundle: string): IndexBuildRequest {
    return {
      runId,
      artifactUri: pathToFileURL(path.join(models, bundle)).href,
      notify: {
        topic: TOPIC,
        message: { data: { run_id: runId, reason: 'index-build' }, attributes: { origin: 'job' } },
      },
    };
  }

  async function record(runId: string): Promise<LocalIndexBuildRecord> {
    const file = path.join(data, 'index-builds', `${runId}.json`);
    return JSON.parse(await fs.readFile(file, 'utf8')) as LocalIndexBuildRecord;
  }

  const pushes = () => receiver.on('/deploy');

  /** The job's status line: the last JSON line of its log. */
  async function lastLogLine(file: string): Promise<Record<string, unknown>> {
    const lines = (await fs.readFile(file, 'utf8')).trim().split('\n');
    return JSON.parse(lines.at(-1) ?? '{}') as Record<string, unknown>;
  }

  it('runs the job as a child process that stores the index, then notifies', async () => {
    const local = builds();
    const request = buildRequest('ep-run-1', 'run-1');
    const started = await local.start(request);
    assert.equal(started.state, 'running');
    assert.match(started.execution ?? '', /^\d+$/);
    assert.deepEqual(await local.start(request), started, 'a running build is not restarted');

    await receiver.waitFor(() => pushes().length === 1, 'the notification', 150_000);
    const push = pushes()[0]!;
    assert.deepEqual(decodeData(push), { run_id: 'ep-run-1', reason: 'index-build' });
    assert.equal(push.body.message.attributes.origin, 'job');
    // The job reports before it notifies, so the notified step already sees the outcome.
    assert.deepEqual(await local.status('ep-run-1'), {
      state: 'succeeded',
      execution: started.execution,
    });
    const index = JSON.parse(
      await fs.readFile(path.join(models, 'run-1', 'ann', 'index', 'index.json'), 'utf8'),
    ) as { count: number; dim: number };
    assert.deepEqual([index.count, index.dim], [20, 8]);

    const finished = await record('ep-run-1');
    assert.equal(finished.pid, Number(started.execution));
    assert.equal(finished.launcherPid, process.pid);
    assert.equal(finished.artifactUri, request.artifactUri);
    assert.ok(finished.endedAt && finished.endedAt >= finished.startedAt);
    const statusLine = await lastLogLine(finished.logFile);
    assert.equal(statusLine.message, 'index build finished');
    assert.equal(statusLine.state, 'succeeded');
    assert.equal(statusLine.topic, TOPIC);
    assert.equal(statusLine.messageId, push.body.message.messageId);

    assert.deepEqual(await builds().start(request), {
      state: 'succeeded',
      execution: started.execution,
    });
    assert.deepEqual(await record('ep-run-1'), finished, 'a finished build is not restarted');
  });

  it('reports a failed build (bundle missing) and still notifies', async () => {
    const local = builds();
    const request = buildRequest('ep-run-2', 'missing');
    const started = await local.start(request);
    assert.equal(started.state, 'running');

    await receiver.waitFor(() => pushes().length === 2, 'the notification', 150_000);
    assert.deepEqual(decodeData(pushes()[1]!), { run_id: 'ep-run-2', reason: 'index-build' });
    const status = await local.status('ep-run-2');
    assert.equal(status.state, 'failed');
    assert.equal(status.execution, started.execution);
    assert.equal(
      status.error,
      `ARTIFACT.NOT_FOUND: nothing at ${request.artifactUri} (subdirectory ann) (${path.join(models, 'missing', 'ann')})`,
    );
    const statusLine = await lastLogLine((await record('ep-run-2')).logFile);
    assert.equal(statusLine.message, 'index build finished');
    assert.equal(statusLine.severity, 'ERROR');
    assert.equal(statusLine.error, status.error);
    assert.equal(statusLine.messageId, pushes()[1]!.body.message.messageId);
  });

  it('reports a job whose configuration is invalid as failed, without notifying', async () => {
    const local = builds(process.execPath, { RECDEPLOY_BACKEND: 'cloud' });
    const started = await local.start(buildRequest('ep-bad-config', 'run-1'));
    assert.equal(started.state, 'running');
    const file = local.statusFile('ep-bad-config');
    const child = Number(started.execution);
    // The job exits after reporting; then the record is final and the process gone.
    await receiver.waitFor(() => !isProcessAlive(child), 'the job to exit', 60_000);
    assert.deepEqual(await local.status('ep-bad-config'), {
      state: 'failed',
      execution: started.execution,
      error:
        'invalid configuration:\n  - RECDEPLOY_BACKEND="cloud" is invalid: expected one of local, gcp',
    });
    assert.equal((JSON.parse(await fs.readFile(file, 'utf8')) as LocalIndexBuildRecord).pid, child);
    const { acked, pending, deadLettered } = bus.stats();
    assert.equal(acked + pending + deadLettered, 2, 'nothing more was published');
  });

  it('marks a build failed when its process is gone without reporting', async () => {
    const child = spawn(process.execPath, ['-e', '']);
    await once(child, 'exit');
    const ghost: LocalIndexBuildRecord = {
      runId: 'ep-ghost',
      artifactUri: 'file:///nowhere',
      state: 'running',
      launcherPid: process.pid,
      pid: child.pid!,
      logFile: '/tmp/ghost.log',
      startedAt: '2026-11-26T10:00:00.000Z',
    };
    const local = builds();
    await fs.mkdir(path.join(data, 'index-builds'), { recursive: true });
    await fs.writeFile(path.join(data, 'index-builds', 'ep-ghost.json'), JSON.stringify(ghost));

    const expected = {
      state: 'failed',
      execution: String(child.pid),
      error: `index build process ${child.pid} exited without reporting; see /tmp/ghost.log`,
    };
    assert.deepEqual(await local.status('ep-ghost'), expected);
    assert.equal((await record('ep-ghost')).state, 'failed', 'the verdict is recorded');
    assert.deepEqual(await local.start({ ...buildRequest('ep-ghost', 'run-1') }), expected);
    assert.deepEqual(
      logger.lines.map((l) => l.message),
      ['index build process is gone'],
    );

    // A launcher that died between claiming the build and spawning it.
    const claimOnly: LocalIndexBuildRecord = {
      runId: 'ep-unspawned',
      artifactUri: 'file:///nowhere',
      state: 'running',
      launcherPid: child.pid!,
      logFile: '/tmp/unspawned.log',
      startedAt: '2026-11-26T10:00:00.000Z',
    };
    await fs.writeFile(
      path.join(data, 'index-builds', 'ep-unspawned.json'),
      JSON.stringify(claimOnly),
    );
    assert.deepEqual(await local.status('ep-unspawned'), {
      state: 'failed',
      error: `the process that started the build (pid ${child.pid}) exited before spawning it`,
    });
  });

  it('answers not_found for an unknown run and failed for a file that is not a record', async () => {
    const local = builds();
    assert.deepEqual(await local.status('ep-unknown'), { state: 'not_found' });
    await fs.writeFile(path.join(data, 'index-builds', 'ep-bad.json'), '{"half": ');
    assert.deepEqual(await local.status('ep-bad'), {
      state: 'failed',
      error: `index build status file ${path.join(data, 'index-builds', 'ep-bad.json')} is not a build record: {"half": `,
    });
  });

  it('records a build whose command cannot run as failed', async () => {
    const local = builds('/nonexistent/node');
    const expected = {
      state: 'failed',
      error: 'cannot run /nonexistent/node: spawn /nonexistent/node ENOENT',
    };
    assert.deepEqual(await local.start(buildRequest('ep-no-command', 'run-1')), expected);
    assert.deepEqual(await local.status('ep-no-command'), expected);
    assert.equal(logger.lines[0]?.message, 'index build could not start');
  });

  it('keeps the status file of an odd run id inside its directory', () => {
    const local = builds();
    assert.equal(local.statusFile('../x/y'), path.join(data, 'index-builds', '..%2Fx%2Fy.json'));
  });

  it('runs the compiled job when it is built, else the source through tsx', async () => {
    const repo = path.join(tmp, 'repo');
    assert.deepEqual(defaultIndexBuildCommand(repo), {
      command: process.execPath,
      args: [
        '--conditions=source',
        '--import',
        'tsx',
        path.join(repo, 'services/ann-serving/src/index-build-job.ts'),
      ],
      cwd: repo,
    });
    const built = path.join(repo, 'services/ann-serving/dist/src/index-build-job.js');
    await fs.mkdir(path.dirname(built), { recursive: true });
    await fs.writeFile(built, '');
    assert.deepEqual(defaultIndexBuildCommand(repo), {
      command: process.execPath,
      args: [built],
      cwd: repo,
    });
  });

  it('reports the outcome only after the launcher recorded the pid, keeping its fields', async () => {
    const file = path.join(data, 'index-builds', 'ep-report.json');
    const claim: LocalIndexBuildRecord = {
      runId: 'ep-report',
      artifactUri: 'file:///m',
      state: 'running',
      launcherPid: 1,
      logFile: '/tmp/report.log',
      startedAt: '2026-11-26T10:00:00.000Z',
    };
    await fs.writeFile(file, JSON.stringify(claim));
    const outcome = { runId: 'ep-report', artifactUri: 'file:///m', error: 'INDEX.RECALL_TOO_LOW' };
    const reported = reportIndexBuildOutcome(file, { ...outcome, state: 'failed' });
    // The launcher's pid write lands while the job is already reporting.
    await fs.writeFile(`${file}.launcher`, JSON.stringify({ ...claim, pid: process.pid }));
    await fs.rename(`${file}.launcher`, file);
    await reported;

    const { endedAt, ...rest } = await record('ep-report');
    assert.deepEqual(rest, { ...claim, pid: process.pid, state: 'failed', error: outcome.error });
    assert.ok(endedAt);
  });

  it('reports anyway when no launcher ever records the pid', async () => {
    const file = path.join(data, 'index-builds', 'ep-orphan.json');
    await reportIndexBuildOutcome(
      file,
      { runId: 'ep-orphan', artifactUri: 'file:///m', state: 'succeeded' },
      { pidWaitMs: 50 },
    );
    const { startedAt, endedAt, ...rest } = await record('ep-orphan');
    assert.deepEqual(rest, {
      runId: 'ep-orphan',
      artifactUri: 'file:///m',
      state: 'succeeded',
      launcherPid: process.pid,
      pid: process.pid,
      logFile: path.join(data, 'index-builds', 'ep-orphan.log'),
    });
    assert.ok(startedAt && endedAt);
  });
});
