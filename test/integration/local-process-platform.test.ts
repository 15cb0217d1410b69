/**
 * LocalProcessPlatform with real services/ann-serving child processes (run
 * from source), real routers and real HTTP on loopback. Every test closes its
 * platforms, and afterEach checks that no revision process outlived them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { RecordingLogger, type RecdeployError, type RevisionSpec } from '@recdeploy/shared';
import {
  LocalProcessPlatform,
  type LocalProcessPlatformOptions,
} from '../../shared/adapters/local/local-process-platform.js';
import { defaultServingCommand } from '../../shared/adapters/local/local-serving-command.js';
import { isProcessAlive } from '../../shared/adapters/local/local-revision-process.js';
import { TINY_EXAMPLES, writeTinyBundle } from '../support/ann/tiny-bundle.js';
import { ANN_SERVING_SOURCE_COMMAND, localRevisionSpec } from '../support/local-revision-spec.js';

const SOURCE_COMMAND = ANN_SERVING_SOURCE_COMMAND;
const SERVICE = 'recs';
const TINY_IDS = Array.from({ length: 20 }, (_, i) => 1001 + i);

interface Prediction {
  readonly product_ids: number[];
  readonly scores: number[];
}

describe('LocalProcessPlatform (ann-serving child processes behind per-service routers)', function () {
  this.timeout(60_000);
  let bundleDir: string;
  let dir: string;
  let platforms: LocalProcessPlatform[];
  let logger: RecordingLogger;

  before(async () => {
    bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-platform-bundle-'));
    await writeTinyBundle(bundleDir);
  });

  after(() => fs.rmSync(bundleDir, { recursive: true, force: true }));

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-platform-'));
    platforms = [];
    logger = new RecordingLogger();
  });

  afterEach(async () => {
    await Promise.all(platforms.map((platform) => platform.close()));
    const file = path.join(dir, 'serving.db');
    const pids = fs.existsSync(file) ? recordedPids(file) : [];
    const survivors = pids.filter(isProcessAlive);
    for (const pid of survivors) process.kill(pid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(survivors, [], 'close() left revision processes running');
  });

  function openPlatform(options: Partial<LocalProcessPlatformOptions> = {}): LocalProcessPlatform {
    const platform = new LocalProcessPlatform({
      file: path.join(dir, 'serving.db'),
      logsDir: path.join(dir, 'logs'),
      servingCommand: SOURCE_COMMAND,
      logger,
      readyTimeoutMs: 30_000,
      stopTimeoutMs: 5_000,
      readyPollIntervalMs: 50,
      ...options,
    });
    platforms.push(platform);
    return platform;
  }

  function spec(suffix: string, overrides: Partial<RevisionSpec> = {}): RevisionSpec {
    return localRevisionSpec(SERVICE, suffix, bundleDir, overrides);
  }

  it('deploys with 0% traffic: the tag URL serves predictions, the router answers 503 until promote', async () => {
    const platform = openPlatform();
    const deployed = await platform.deployRevision(spec('r1'));

    const [revision] = platform.listRevisions(SERVICE);
    assert.ok(revision);
    assert.deepEqual(deployed, {
      service: SERVICE,
      revision: 'recs-r1',
      tagUrl: `http://127.0.0.1:${revision.port}`,
      serviceUrl: deployed.serviceUrl,
    });
    assert.match(deployed.serviceUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(deployed.serviceUrl, deployed.tagUrl);
    assert.equal(revision.state, 'ready');
    assert.equal(revision.running, true);

    const direct = await predict(deployed.tagUrl);
    assert.equal(direct.status, 200);
    assert.equal(direct.predictions.length, TINY_EXAMPLES.length);
    for (const prediction of direct.predictions) {
      assert.equal(prediction.product_ids.length, 5, 'the manifest default_k');
      for (const id of prediction.product_ids) assert.ok(TINY_IDS.includes(id), `id ${id}`);
    }

    const before = await fetch(`${deployed.serviceUrl}/v1/models/recs`);
    assert.equal(before.status, 503);
    assert.equal(before.headers.get('x-recdeploy-router'), SERVICE);
    assert.deepEqual(await before.json(), {
      error: 'no live revision for service recs: no revision has been promoted yet',
    });
    assert.deepEqual(await platform.describe(SERVICE), {
      service: SERVICE,
      serviceUrl: deployed.serviceUrl,
      targets: [{ revision: 'recs-r1', percent: 0, tag: 'run-r1', url: deployed.tagUrl }],
    });

    const traffic = await platform.promote(SERVICE, 'recs-r1');
    assert.deepEqual(traffic, {
      service: SERVICE,
      serviceUrl: deployed.serviceUrl,
      liveRevision: 'recs-r1',
      targets: [{ revision: 'recs-r1', percent: 100, tag: 'run-r1', url: deployed.tagUrl }],
    });
    await assert.rejects(platform.rollback(SERVICE), {
      code: 'PLATFORM.NOT_FOUND',
      message: 'service recs has no previous revision to roll back to (live: recs-r1)',
    });
    const routed = await predict(deployed.serviceUrl);
    assert.equal(routed.status, 200);
    assert.equal(routed.revision, 'recs-r1');
    assert.deepEqual(routed.predictions, direct.predictions);
    // Whatever the revision answers passes through unchanged, errors included.
    const [viaRouter, viaTag] = await Promise.all(
      [deployed.serviceUrl, deployed.tagUrl].map((url) => fetch(`${url}/v1/models/other`)),
    );
    assert.equal(viaRouter?.status, 404);
    assert.equal(viaRouter?.headers.get('x-recdeploy-revision'), 'recs-r1');
    assert.deepEqual(await viaRouter?.json(), await viaTag?.json());

    const log = fs.readFileSync(path.join(dir, 'logs', SERVICE, 'recs-r1.log'), 'utf8');
    assert.match(log, /"message":"model AVAILABLE"/);
    assert.match(log, /"mode":"ann"/);
  });

  it('answers 502 while the live revision is down, and a repeated deploy starts it again', async () => {
    const platform = openPlatform();
    const deployed = await platform.deployRevision(spec('r1'));
    await platform.promote(SERVICE, 'recs-r1');
    const first = platform.listRevisions(SERVICE)[0];
    assert.ok(first?.pid);
    process.kill(first.pid, 'SIGKILL');
    await waitFor(() => !isProcessAlive(first.pid ?? 0));

    const down = await fetch(`${deployed.serviceUrl}/v1/models/recs`);
    assert.equal(down.status, 502);
    const { error } = (await down.json()) as { error: string };
    // Refused, or reset when the kernel was still tearing the listener down.
    assert.match(
      error,
      new RegExp(
        `^live revision recs-r1 of service recs is not answering on port ${first.port}: ECONN(REFUSED|RESET)$`,
      ),
    );

    assert.deepEqual(await platform.deployRevision(spec('r1')), deployed);
    const again = platform.listRevisions(SERVICE)[0];
    assert.notEqual(again?.pid, first.pid, 'a new process');
    assert.equal(again?.port, first.port, 'on the recorded port');
    assert.equal((await predict(deployed.serviceUrl)).status, 200);
  });

  it('is idempotent: deploying the same revision again (or twice at once) keeps one process', async () => {
    const platform = openPlatform();
    const [a, b] = await Promise.all([
      platform.deployRevision(spec('r1')),
      platform.deployRevision(spec('r1')),
    ]);
    assert.deepEqual(a, b);
    const pid = platform.listRevisions(SERVICE)[0]?.pid;
    assert.deepEqual(await platform.deployRevision(spec('r1')), a);
    assert.deepEqual(
      platform.listRevisions(SERVICE).map((r) => [r.revision, r.pid]),
      [['recs-r1', pid]],
    );
    const log = fs.readFileSync(path.join(dir, 'logs', SERVICE, 'recs-r1.log'), 'utf8');
    assert.equal(log.match(/recdeploy: starting revision/g)?.length, 1, 'started once');
  });

  it('promotes, keeps the previous revision, stops superseded ones, rolls back and discards', async () => {
    const platform = openPlatform();
    const r1 = await platform.deployRevision(spec('r1'));
    await platform.promote(SERVICE, 'recs-r1');
    const r2 = await platform.deployRevision(spec('r2'));
    assert.equal(r2.serviceUrl, r1.serviceUrl, 'one router per service');
    assert.notEqual(r2.tagUrl, r1.tagUrl);
    assert.equal(
      (await predict(r1.serviceUrl)).revision,
      'recs-r1',
      'a new revision gets no traffic',
    );

    // r3 is deployed before r2 is promoted, as a newer run's revision awaiting verification.
    await platform.deployRevision(spec('r3'));

    const afterSecond = await platform.promote(SERVICE, 'recs-r2');
    assert.equal(afterSecond.liveRevision, 'recs-r2');
    assert.equal(afterSecond.previousRevision, 'recs-r1');
    assert.deepEqual(
      afterSecond.targets.map((t) => [t.revision, t.percent]),
      [
        ['recs-r1', 0],
        ['recs-r2', 100],
        ['recs-r3', 0],
      ],
    );
    assert.equal((await predict(r1.serviceUrl)).revision, 'recs-r2');
    assert.equal((await predict(r1.tagUrl)).status, 200, 'the previous revision keeps running');
    assert.deepEqual(
      platform.listRevisions(SERVICE).map((r) => r.running),
      [true, true, true],
      'a newer revision that never had traffic is not superseded',
    );

    const r1Pid = pidOf(platform, 'recs-r1');
    // Another process on the same file promotes: the router follows the shared state.
    const other = openPlatform();
    const afterThird = await other.promote(SERVICE, 'recs-r3');
    await other.close();
    assert.deepEqual(
      afterThird.targets.map((t) => [t.revision, t.percent, t.tag]),
      [
        ['recs-r2', 0, 'run-r2'],
        ['recs-r3', 100, 'run-r3'],
      ],
    );
    assert.equal(afterThird.previousRevision, 'recs-r2');
    assert.equal((await predict(r1.serviceUrl)).revision, 'recs-r3');
    assert.equal(isProcessAlive(r1Pid), false, 'the superseded revision was stopped');
    assert.deepEqual(
      platform.listRevisions(SERVICE).map((r) => [r.revision, r.state, r.running]),
      [
        ['recs-r1', 'stopped', false],
        ['recs-r2', 'ready', true],
        ['recs-r3', 'ready', true],
      ],
    );
    await assert.rejects(fetch(`${r1.tagUrl}/v1/models/recs`), 'its tag URL is gone');

    const rolledBack = await platform.rollback(SERVICE);
    assert.equal(rolledBack.liveRevision, 'recs-r2');
    assert.equal(rolledBack.previousRevision, 'recs-r3');
    assert.equal((await predict(r1.serviceUrl)).revision, 'recs-r2');

    const toFirst = await platform.rollback(SERVICE, 'recs-r1');
    assert.equal(toFirst.liveRevision, 'recs-r1');
    assert.equal(toFirst.previousRevision, 'recs-r2');
    assert.equal((await predict(r1.serviceUrl)).revision, 'recs-r1');
    assert.equal((await predict(r1.tagUrl)).status, 200, 'started again on its recorded port');
    assert.notEqual(pidOf(platform, 'recs-r1'), r1Pid);
    assert.equal(platform.listRevisions(SERVICE)[2]?.running, false, 'r3 had traffic: superseded');
    // Promoting the live revision again changes nothing, and is not logged as a change.
    await platform.promote(SERVICE, 'recs-r1');
    assert.deepEqual(
      platform.trafficChanges(SERVICE).map((c) => [c.fromRevision ?? null, c.revision]),
      [
        [null, 'recs-r1'],
        ['recs-r1', 'recs-r2'],
        ['recs-r2', 'recs-r3'],
        ['recs-r3', 'recs-r2'],
        ['recs-r2', 'recs-r1'],
      ],
    );

    await assert.rejects(platform.discardRevision(SERVICE, 'recs-r1'), (error: RecdeployError) => {
      assert.equal(error.code, 'PLATFORM.REJECTED');
      assert.equal(
        error.message,
        'revision recs-r1 of service recs has 100% of the traffic; promote or roll back to another revision before discarding it',
      );
      return true;
    });
    const r2Pid = pidOf(platform, 'recs-r2');
    await platform.discardRevision(SERVICE, 'recs-r2');
    assert.equal(isProcessAlive(r2Pid), false);
    await platform.discardRevision(SERVICE, 'recs-r2'); // already gone: not an error
    await platform.discardRevision(SERVICE, 'recs-unknown');
    assert.deepEqual(
      (await platform.describe(SERVICE))?.targets.map((t) => t.revision),
      ['recs-r1'],
    );
  });

  it('serves the tf-serving runtime with ann-serving in exact mode, and says so', async () => {
    const platform = openPlatform();
    const deployed = await platform.deployRevision(spec('tf', { runtime: 'tf-serving' }));
    const metrics = await (await fetch(`${deployed.tagUrl}/metrics`)).text();
    assert.match(metrics, /^ann_serving_search_mode\{mode="exact"\} 1$/m);
    assert.equal((await predict(deployed.tagUrl)).status, 200);
    const warning = logger.lines.find((line) => line.level === 'warn');
    assert.deepEqual(warning, {
      level: 'warn',
      message:
        'TF Serving has no local binary: the revision is served by services/ann-serving in exact (brute-force) mode, which speaks the same REST API',
      meta: { service: SERVICE, revision: 'recs-tf', runtime: 'tf-serving' },
    });
  });

  it('fails with PLATFORM.REVISION_FAILED and the server’s own error when the bundle does not exist', async () => {
    const platform = openPlatform();
    const missing = path.join(dir, 'no-such-bundle');
    const started = Date.now();
    await assert.rejects(
      platform.deployRevision(
        spec('bad', { env: { MODEL_PATH: `file://${missing}`, MODEL_NAME: 'recs' } }),
      ),
      (error: RecdeployError) => {
        assert.equal(error.code, 'PLATFORM.REVISION_FAILED');
        assert.equal(error.retryable, false);
        const logFile = path.join(dir, 'logs', SERVICE, 'recs-bad.log');
        assert.ok(
          error.message.startsWith(
            `revision recs-bad of service recs exited with code 1 before it was ready (pid `,
          ),
          error.message,
        );
        assert.ok(error.message.includes(`; its log ${logFile} says:\n`), error.message);
        assert.ok(
          error.message.includes(
            `ERROR model failed to load: ${missing}/ann/manifest.json: not found`,
          ),
          error.message,
        );
        return true;
      },
    );
    assert.ok(Date.now() - started < 20_000, 'stopped waiting when the process exited');
    assert.deepEqual(
      platform.listRevisions(SERVICE).map((r) => [r.state, r.running]),
      [['failed', false]],
    );
    await assert.rejects(platform.promote(SERVICE, 'recs-bad'), {
      code: 'PLATFORM.REVISION_FAILED',
    });
  });

  it('stops a revision that is not ready in time, and reports a command that cannot start', async () => {
    const impatient = openPlatform({ readyTimeoutMs: 200 });
    await assert.rejects(impatient.deployRevision(spec('slow')), (error: RecdeployError) => {
      assert.equal(error.code, 'PLATFORM.REVISION_FAILED');
      assert.match(
        error.message,
        /^revision recs-slow of service recs was not AVAILABLE at http:\/\/127\.0\.0\.1:\d+\/v1\/models\/recs within 200 ms \(last state: (no answer|LOADING)\) and was stopped; its log \S+ says:\n/,
      );
      return true;
    });
    const [slow] = impatient.listRevisions(SERVICE);
    assert.equal(slow?.state, 'failed');
    assert.equal(isProcessAlive(slow?.pid ?? 0), false, 'the slow process was stopped');

    const broken = openPlatform({
      servingCommand: { command: path.join(dir, 'no-such-command'), args: [] },
    });
    await assert.rejects(broken.deployRevision(spec('nocmd')), (error: RecdeployError) => {
      assert.equal(error.code, 'PLATFORM.REVISION_FAILED');
      assert.ok(
        error.message.startsWith(
          `revision recs-nocmd of service recs could not be started with ${path.join(dir, 'no-such-command')}: spawn ${path.join(dir, 'no-such-command')} ENOENT (log: ${path.join(dir, 'logs', SERVICE, 'recs-nocmd.log')})`,
        ),
        error.message,
      );
      return true;
    });
  });

  it('close() kills a revision that ignores SIGTERM once stopTimeoutMs has passed', async () => {
    // A stand-in server that reports AVAILABLE and shrugs off SIGTERM.
    const stubborn = [
      "process.on('SIGTERM', () => {});",
      'require(\'node:http\').createServer((q, s) => s.end(\'{"model_version_status":[{"state":"AVAILABLE"}]}\'))',
      '.listen(Number(process.env.PORT), process.env.HOST);',
    ].join('');
    const platform = openPlatform({
      servingCommand: { command: process.execPath, args: ['-e', stubborn] },
      stopTimeoutMs: 300,
    });
    await platform.deployRevision(spec('stubborn'));
    const pid = pidOf(platform, 'recs-stubborn');
    const started = Date.now();
    await platform.close();
    assert.equal(isProcessAlive(pid), false);
    assert.ok(Date.now() - started >= 300, 'SIGTERM was given its time first');
  });

  it('refuses a spec it cannot run, naming each problem, without starting anything', async () => {
    const platform = openPlatform();
    await assert.rejects(
      platform.deployRevision(spec('x', { revision: 'other-x', env: { MODEL_NAME: 'recs' } })),
      {
        code: 'PLATFORM.REJECTED',
        message:
          'revision spec cannot run locally: revision "other-x" must start with "recs-"; env has no MODEL_PATH (the model bundle to serve)',
      },
    );
    await assert.rejects(platform.promote(SERVICE, 'recs-x'), {
      code: 'PLATFORM.NOT_FOUND',
      message: 'service recs does not exist',
    });
    assert.equal(await platform.describe(SERVICE), undefined);
  });

  it('after close(), a new instance on the same file brings revisions and router back on their ports', async () => {
    const first = openPlatform();
    const r1 = await first.deployRevision(spec('r1'));
    await first.promote(SERVICE, 'recs-r1');
    const r2 = await first.deployRevision(spec('r2'));
    const before = first.listRevisions(SERVICE);
    await first.close();
    for (const r of before)
      assert.equal(isProcessAlive(r.pid ?? 0), false, `${r.revision} stopped`);
    await assert.rejects(fetch(`${r1.serviceUrl}/v1/models/recs`), 'the router is closed');

    const second = openPlatform();
    const report = await second.start();
    assert.deepEqual(
      { ...report, restarted: [...report.restarted].sort() },
      { adopted: [], restarted: ['recs-r1', 'recs-r2'], failed: [] },
    );
    const routed = await predict(r1.serviceUrl);
    assert.equal(routed.status, 200);
    assert.equal(routed.revision, 'recs-r1');
    assert.equal((await predict(r2.tagUrl)).status, 200, 'the 0% revision is back on its port');
    const after = second.listRevisions(SERVICE);
    assert.deepEqual(
      after.map((r) => [r.revision, r.port, r.state]),
      before.map((r) => [r.revision, r.port, 'ready']),
    );
    assert.notDeepEqual(
      after.map((r) => r.pid),
      before.map((r) => r.pid),
    );
  });

  it('re-adopts a revision still running from another instance, which then leaves it alone', async () => {
    const first = openPlatform();
    const r1 = await first.deployRevision(spec('r1'));
    await first.promote(SERVICE, 'recs-r1');
    const pid = pidOf(first, 'recs-r1');

    const second = openPlatform();
    assert.deepEqual(await second.start(), { adopted: ['recs-r1'], restarted: [], failed: [] });
    assert.equal(pidOf(second, 'recs-r1'), pid, 'the same process, not a new one');
    assert.ok(
      logger.lines.some(
        (line) => line.message === 'service router already runs in another platform instance',
      ),
    );

    await first.close();
    assert.equal(isProcessAlive(pid), true, 'the adopting instance owns it now');
    assert.equal((await predict(r1.tagUrl)).status, 200);
    await second.close();
    assert.equal(isProcessAlive(pid), false, 'stopped by the instance that adopted it');
  });

  it('defaultServingCommand runs the built server when there is one, else the source through tsx', () => {
    const repo = fs.mkdtempSync(path.join(dir, 'repo-'));
    assert.deepEqual(defaultServingCommand(repo), {
      command: process.execPath,
      args: [
        '--conditions=source',
        '--import',
        'tsx',
        path.join(repo, 'services/ann-serving/src/main.ts'),
      ],
      cwd: repo,
    });
    const built = path.join(repo, 'services/ann-serving/dist/src/main.js');
    fs.mkdirSync(path.dirname(built), { recursive: true });
    fs.writeFileSync(built, '');
    assert.deepEqual(defaultServingCommand(repo), {
      command: process.execPath,
      args: [built],
      cwd: repo,
    });
  });
});

async function predict(
  baseUrl: string,
): Promise<{ status: number; revision: string | null; predictions: Prediction[] }> {
  const response = await fetch(`${baseUrl}/v1/models/recs:predict`, {
    method: 'POST',
    body: JSON.stringify({ instances: TINY_EXAMPLES }),
  });
  const body = (await response.json()) as { predictions?: Prediction[] };
  return {
    status: response.status,
    revision: response.headers.get('x-recdeploy-revision'),
    predictions: body.predictions ?? [],
  };
}

function pidOf(platform: LocalProcessPlatform, revision: string): number {
  const pid = platform.listRevisions(SERVICE).find((r) => r.revision === revision)?.pid;
  assert.ok(pid !== undefined, `${revision} has a pid`);
  return pid;
}

/** The last pid recorded for each revision, read straight from the state file. */
function recordedPids(file: string): number[] {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare('SELECT pid FROM serving_revisions WHERE pid IS NOT NULL').all();
    return (rows as { pid: number }[]).map((row) => row.pid);
  } finally {
    db.close();
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
