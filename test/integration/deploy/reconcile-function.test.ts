/**
 * functions/reconcile under the real functions-framework (its CLI, in a
 * child process, on the TypeScript sources) with the local backend: a tick
 * runs one reconciler pass over the SQLite run store and re-drives a run that
 * stopped moving. The run is `registered` since ten minutes (the store's
 * explicit `now`) and no deploy attempt ever started: the pass must record
 * that in the run's history and publish its model-registered hand-off on the
 * local bus, where a push subscription of this test receives it. A second
 * tick, delivered by the bus as Cloud Scheduler's would be through Pub/Sub,
 * is acknowledged and re-drives nothing (one hand-off per window).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { loadChainConfig } from '@recdeploy/shared/chain';
import { LocalEventBus, SqliteRunStore } from '@recdeploy/shared/local';
import { registeredAs, sampleIdentity } from '../../fixtures/runs.js';
import { PushReceiver } from '../../support/push-receiver.js';
import { accepts, freePort } from '../../support/loopback-ports.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const HANDLER = path.join(repoRoot, 'functions/reconcile/src/index.ts');
/** The functions-framework's CLI (its `bin`), beside the module the handler registers with. */
const FRAMEWORK = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@google-cloud/functions-framework')),
  'main.js',
);

interface RunningFunction {
  readonly url: string;
  readonly stdout: () => string;
  stop(): Promise<void>;
}

describe('functions/reconcile: a tick re-drives a stalled run (functions-framework, local backend)', function () {
  this.timeout(60_000);
  let dataDir: string;
  let store: SqliteRunStore;
  let bus: LocalEventBus;
  let receiver: PushReceiver;
  let running: RunningFunction;
  /** The stalled run the first tick re-drives. */
  let runId: string;
  const env = () => ({
    RECDEPLOY_BACKEND: 'local',
    RECDEPLOY_DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    LOG_STREAM: 'stdout',
  });

  before(async function () {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'recdeploy-reconcile-'));
    store = new SqliteRunStore({ file: path.join(dataDir, 'runs.db') });
    receiver = new PushReceiver();
    await receiver.start();
    running = await startFunction(env());
    // The bus every process of the stack shares (bus.db): ticks go to the
    // function, the model-registered hand-off to this test's receiver.
    const topics = loadChainConfig(env()).runtime.topics;
    bus = new LocalEventBus({ file: path.join(dataDir, 'bus.db'), pollIntervalMs: 50 });
    for (const [topic, endpoint] of [
      [topics.reconcileTick, running.url],
      [topics.modelRegistered, receiver.url('/model-registered')],
    ] as const) {
      bus.createTopic(topic);
      bus.createSubscription({
        name: `${topic}-push`,
        topic,
        pushEndpoint: endpoint,
        ackDeadlineMs: 30_000,
        minBackoffMs: 100,
        maxBackoffMs: 1_000,
        maxDeliveryAttempts: 5,
      });
    }
    bus.start();
  });

  after(async function () {
    await running?.stop();
    await bus?.close();
    await receiver?.stop();
    await store?.close();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it('answers 204 to a tick, records the re-drive in the run and publishes model-registered', async function () {
    const tenMinutesAgo = new Date(Date.now() - 10 * 60_000);
    const { run: created } = await store.createRun(sampleIdentity(), { now: tenMinutesAgo });
    runId = created.runId;
    const owner = 'register-attempt-that-finished';
    await store.claimStep({ runId, step: 'register', owner, leaseMs: 30_000, now: tenMinutesAgo });
    await store.completeStep({
      runId,
      step: 'register',
      owner,
      patch: registeredAs(1),
      now: tenMinutesAgo,
    });
    const stalled = await store.getRun(runId);
    assert.equal(stalled?.status, 'registered');
    assert.equal(stalled.steps.deploy.attempts, 0, 'no deploy attempt ever started');
    assert.equal(stalled.updatedAt, tenMinutesAgo.toISOString());
    const historyBefore = stalled.history.length;

    // Eventarc's binary-mode CloudEvent for a Cloud Scheduler message.
    const response = await postTick(running.url, 'tick-1');
    assert.equal(response.status, 204, await response.text());

    // Committed before the 2xx: the reconciler's line is in the history now.
    const after = await store.getRun(runId);
    assert.equal(after?.status, 'registered', 'the reconciler re-drives; the deploy step moves it');
    const added = after.history.slice(historyBefore);
    assert.equal(added.length, 1, JSON.stringify(added));
    assert.match(added[0]?.reason ?? '', /^reconciler: deploy had not moved since /);
    assert.ok(after.steps.deploy.handOffAt, 'the hand-off claim');

    // …and the hand-off went out on the bus, to whatever subscribes to model-registered.
    await receiver.waitFor(
      () => receiver.on('/model-registered').length > 0,
      'the model-registered hand-off',
      10_000,
    );
    const [push] = receiver.on('/model-registered');
    assert.equal(push?.body.message.attributes.run_id, runId);
    const data = JSON.parse(Buffer.from(push.body.message.data, 'base64').toString('utf8')) as {
      run_id: string;
      registry: { model: string; version: string };
    };
    assert.equal(data.run_id, runId);
    assert.deepEqual(data.registry, registeredAs(1).registry);

    const report = reportLines(running.stdout()).at(-1);
    assert.equal(report?.tick, 'tick-1');
    assert.equal(report?.redrivenCount, 1);
    assert.deepEqual(report?.redriven, [`${runId}:deploy`]);
    assert.equal(report?.errorCount, 0);
    assert.equal(report?.canaryCount, 0);
    assert.equal(report?.service, 'recdeploy-reconcile');
  });

  it('acknowledges a tick the bus delivers, and re-drives nothing twice within a window', async function () {
    const historyBefore = (await store.getRun(runId))?.history.length;
    const reportsBefore = reportLines(running.stdout()).length;
    const topics = loadChainConfig(env()).runtime.topics;
    // What Cloud Scheduler publishes; the body means nothing to the handler.
    await bus.publish(topics.reconcileTick, { data: { tick: 'reconcile' } });
    const acked = () =>
      bus.stats().subscriptions.find((s) => s.topic === topics.reconcileTick)?.acked ?? 0;
    await receiver.waitFor(() => acked() === 1, 'the tick acknowledged', 15_000);
    assert.equal(bus.stats().deadLettered, 0);

    const report = reportLines(running.stdout()).slice(reportsBefore);
    assert.equal(report.length, 1, 'one pass for one tick');
    assert.equal(report[0]?.redrivenCount, 0);
    assert.equal((await store.getRun(runId))?.history.length, historyBefore);
    // Give a second hand-off, if one had been published, the time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(receiver.on('/model-registered').length, 1);
  });
});

/** Starts the functions-framework CLI on the handler's source; resolves once it listens. */
async function startFunction(env: Record<string, string>): Promise<RunningFunction> {
  const port = await freePort();
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(
    process.execPath,
    [
      '--conditions=source',
      '--import=tsx',
      FRAMEWORK,
      '--target=reconcile',
      '--signature-type=cloudevent',
      `--source=${HANDLER}`,
      `--port=${port}`,
    ],
    {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        METADATA_SERVER_DETECTION: 'none',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const stop = async () => {
    if (exitCode === undefined) child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 30_000;
  while (!(await accepts(port))) {
    if (exitCode !== undefined) {
      throw new Error(`functions-framework exited (${exitCode}):\n${stdout}\n${stderr}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`not listening after 30 s:\n${stdout}\n${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `http://127.0.0.1:${port}/`, stdout: () => stdout, stop };
}

/** A tick as Eventarc pushes it: a Pub/Sub messagePublished CloudEvent in binary mode. */
function postTick(url: string, id: string): Promise<Response> {
  const topic = 'projects/local/topics/reconcile-tick';
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'ce-id': id,
      'ce-specversion': '1.0',
      'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
      'ce-source': `//pubsub.googleapis.com/${topic}`,
    },
    body: JSON.stringify({
      subscription: 'projects/local/subscriptions/eventarc-local-reconcile-tick-sub',
      message: {
        data: Buffer.from('{"tick":"reconcile"}').toString('base64'),
        messageId: id,
        publishTime: new Date().toISOString(),
      },
    }),
  });
}

/** The function's "pass done" log lines (JSON on stdout), oldest first. */
function reportLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => String(line.message).startsWith('reconcile: pass done'));
}
