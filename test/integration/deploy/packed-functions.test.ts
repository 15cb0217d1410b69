/**
 * Each function's upload directory is self-contained: scripts/pack-function.ts
 * bundles it, `npm install --omit=dev` installs the generated package.json in
 * a temporary directory outside the repository (no workspace around it), and
 * `npx functions-framework` starts it as Cloud Functions would, with the
 * environment its descriptor deploys it with (gcp backend). Firestore is a
 * loopback fake (FIRESTORE_EMULATOR_HOST), so the deliveries below are
 * acknowledged and recorded without reaching anything else.
 *
 * The functions import the same packages, so one install serves all of
 * them (checked, not assumed). Install scripts are skipped: the native
 * addons (better-sqlite3, hnswlib-node) download prebuilt binaries or Node
 * headers from GitHub/nodejs.org, which this machine cannot reach; Cloud
 * Functions' build runs them. What the functions load at start and on these
 * deliveries needs none of them, and every import the bundle leaves to
 * node_modules is checked to resolve.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  EXTERNAL_PACKAGES,
  packFunction,
  type PackResult,
} from '../../../scripts/pack-function.js';
import { FUNCTION_DEPLOYMENTS } from '../../../deploy/functions.js';
import type { FunctionDeployment } from '../../../deploy/function-deployment.js';
import { FirestoreCommitFake, type RecordedQuery } from './firestore-commit-fake.js';
import { accepts, freePort } from '../../support/loopback-ports.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const PROJECT = 'recdeploy-test';
const REGION = 'us-central1';

interface LockFile {
  readonly packages: Readonly<Record<string, { readonly version?: string }>>;
}

interface RunningFunction {
  readonly url: string;
  readonly stdout: () => string;
  stop(): Promise<void>;
}

describe('packed functions: bundle, install outside the repo, start with functions-framework', function () {
  this.timeout(240_000);
  let tmp: string;
  const packed = new Map<string, PackResult>();
  const firestore = new FirestoreCommitFake();

  before(async function () {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'recdeploy-packed-'));
    for (const d of FUNCTION_DEPLOYMENTS) {
      packed.set(
        d.workspace,
        await packFunction({
          workspace: d.workspace,
          outDir: path.join(tmp, d.workspace),
          entryPoint: d.entryPoint,
        }),
      );
    }
    const [first, ...others] = FUNCTION_DEPLOYMENTS.map((d) => packedOf(d));
    assert.ok(first !== undefined);
    for (const other of others) assert.deepEqual(other.dependencies, first.dependencies);
    const install = spawnSync(
      'npm',
      ['install', '--omit=dev', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund'],
      { cwd: first.outDir, encoding: 'utf8', env: cleanEnv({}), timeout: 200_000 },
    );
    assert.equal(install.status, 0, `npm install failed:\n${install.stdout}\n${install.stderr}`);
    for (const other of others) {
      await symlink(
        path.join(first.outDir, 'node_modules'),
        path.join(other.outDir, 'node_modules'),
      );
    }
    await firestore.start();
  });

  after(async function () {
    await firestore.stop();
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
  });

  function packedOf(d: FunctionDeployment): PackResult {
    const result = packed.get(d.workspace);
    assert.ok(result, `functions/${d.workspace} was not packed`);
    return result;
  }

  it('writes only the bundle and a package.json whose main and start script run it', async function () {
    const lock = JSON.parse(
      await readFile(path.join(repoRoot, 'package-lock.json'), 'utf8'),
    ) as LockFile;
    for (const d of FUNCTION_DEPLOYMENTS) {
      const result = packedOf(d);
      assert.ok(!result.outDir.startsWith(repoRoot), 'packed outside the repository');
      const pkg = JSON.parse(await readFile(path.join(result.outDir, 'package.json'), 'utf8')) as {
        main: string;
        type: string;
        scripts: { start: string };
        dependencies: Record<string, string>;
      };
      assert.equal(pkg.main, 'index.js');
      assert.equal(pkg.type, 'module');
      assert.equal(
        pkg.scripts.start,
        `functions-framework --target=${d.entryPoint} --signature-type=cloudevent`,
      );
      assert.ok(result.files.includes('index.js'));
      assert.ok(result.files.includes('chunks/hnsw-build-worker.js'), 'the index-build worker');
      for (const file of result.files) {
        assert.match(file, /^(index\.js(\.map)?|package\.json|chunks\/[\w-]+\.js(\.map)?)$/);
      }
      // Only what cannot be bundled, each pinned to the lockfile's version; no workspace package.
      assert.ok('@google-cloud/functions-framework' in pkg.dependencies);
      for (const [name, version] of Object.entries(pkg.dependencies)) {
        assert.ok(
          EXTERNAL_PACKAGES.some((pattern) => pattern.test(name)),
          `${name} is listed but could have been bundled`,
        );
        assert.equal(version, lock.packages[`node_modules/${name}`]?.version, name);
      }
      assert.deepEqual(pkg.dependencies, result.dependencies);
    }
  });

  it('leaves to node_modules only imports that resolve in the installed directory', function () {
    for (const d of FUNCTION_DEPLOYMENTS) {
      const result = packedOf(d);
      assert.ok(result.externalSpecifiers.length > 0);
      const script = `for (const s of ${JSON.stringify(result.externalSpecifiers)}) import.meta.resolve(s);`;
      const check = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: result.outDir,
        encoding: 'utf8',
        env: cleanEnv({}),
      });
      assert.equal(check.status, 0, `functions/${d.workspace}: ${check.stderr}`);
    }
  });

  for (const workspace of ['register', 'deploy', 'verify']) {
    it(`${workspace}: starts with its deploy env and acknowledges a malformed message, recording it`, async function () {
      const d = deploymentOf(workspace);
      const running = await startFunction(d);
      try {
        const before = firestore.commits.length;
        const eventId = `malformed-${workspace}`;
        const response = await postCloudEvent(running.url, d.triggerTopic, eventId, 'not base64!');
        assert.equal(response.status, 204, await response.text());
        const commits = firestore.commits.slice(before);
        assert.equal(commits.length, 1, 'one write: the rejected-event record');
        const [commit] = commits;
        assert.equal(commit?.database, `projects/${PROJECT}/databases/(default)`);
        assert.equal(commit?.authorization, 'Bearer owner', 'the emulator credentials');
        const write = commit?.writes[0];
        assert.equal(commit?.writes.length, 1);
        assert.equal(
          write?.name,
          `projects/${PROJECT}/databases/(default)/documents/rejected_events/${eventId}`,
        );
        assert.equal(write?.mustNotExist, true, 'create(): a redelivery keeps the first record');
        assert.equal(write?.fields.code?.stringValue, 'EVENT.INVALID');
        assert.match(write?.fields.reason?.stringValue ?? '', /base64/);
        assert.equal(
          write?.fields.source?.stringValue,
          `//pubsub.googleapis.com/projects/${PROJECT}/topics/${d.triggerTopic}`,
        );
        assert.ok(write?.fields.expireAt?.timestampValue, 'expireAt for the TTL policy');
        const log = jsonLines(running.stdout()).find((line) => line.code === 'EVENT.INVALID');
        assert.equal(log?.severity, 'WARNING');
        assert.equal(log?.service, `recdeploy-${workspace}`);
      } finally {
        await running.stop();
      }
    });
  }

  it('deploy: builds an HNSW index inside the bundle, its worker threads included', async function () {
    // hnswlib-node's addon is compiled by its install script, skipped here:
    // borrow the one the repository's install built (same version, same machine).
    const installed = path.join(packedOf(deploymentOf('register')).outDir, 'node_modules');
    await cp(
      path.join(repoRoot, 'node_modules/hnswlib-node/build'),
      path.join(installed, 'hnswlib-node/build'),
      { recursive: true },
    );
    const dir = packedOf(deploymentOf('deploy')).outDir;
    const annChunk = (await readdir(path.join(dir, 'chunks'))).find((f) => /^ann-.*\.js$/.test(f));
    assert.ok(annChunk, 'the ANN code is a chunk of its own');
    const outDir = path.join(tmp, 'index-out');
    const script = path.join(dir, 'build-index-check.mjs');
    await writeFile(
      script,
      [
        `const { buildIndex } = await import('./chunks/${annChunk}');`,
        'const dim = 8, count = 400;',
        'let seed = 7; const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647) - 0.5;',
        'const vectors = new Float32Array(count * dim).map(random);',
        'const calibrationQueries = new Float32Array(20 * dim).map(random);',
        `const manifest = await buildIndex({ candidates: { vectors, count, dim }, calibrationQueries, outDir: ${JSON.stringify(outDir)}, k: 10, shards: 2, recallFloor: 0.5, recallTarget: 0.6 });`,
        'console.log(JSON.stringify(manifest.shards.map((s) => s.file)));',
      ].join('\n'),
    );
    const run = spawnSync(process.execPath, [script], {
      cwd: dir,
      encoding: 'utf8',
      env: cleanEnv({}),
    });
    assert.equal(run.status, 0, run.stderr);
    // Two shards: two worker threads started from chunks/hnsw-build-worker.js.
    assert.deepEqual(JSON.parse(run.stdout.trim()), ['hnsw-0.bin', 'hnsw-1.bin']);
    assert.deepEqual((await readdir(outDir)).sort(), ['hnsw-0.bin', 'hnsw-1.bin', 'index.json']);
  });

  it('reconcile: starts with its deploy env and acknowledges a tick, logging its pass', async function () {
    const d = deploymentOf('reconcile');
    const running = await startFunction(d);
    try {
      const commitsBefore = firestore.commits.length;
      const queriesBefore = firestore.queries.length;
      // Cloud Scheduler's message; its body means nothing to the handler.
      const tick = Buffer.from('{"tick":"reconcile"}').toString('base64');
      const response = await postCloudEvent(running.url, d.triggerTopic, 'tick-1', tick);
      assert.equal(response.status, 204, await response.text());
      // One pass over an empty store: the canaries, the runs of every status in
      // flight, the serving records, the live runs and the open freshness
      // alerts (in any order; alerts are read even without a policy, so that
      // switching the policy off resolves what is open).
      const parent = `projects/${PROJECT}/databases/(default)/documents`;
      const sorted = (queries: readonly RecordedQuery[]) =>
        queries.map((q) => JSON.stringify(q)).sort();
      assert.deepEqual(
        sorted(firestore.queries.slice(queriesBefore)),
        sorted([
          ...[
            'canary',
            'received',
            'registering',
            'registered',
            'deploying',
            'deployed',
            'verifying',
          ].map((status) => ({
            parent,
            collection: 'deployments',
            filters: [`status EQUAL ${status}`],
          })),
          { parent, collection: 'serving_records', filters: [] },
          { parent, collection: 'deployments', filters: ['status EQUAL live'] },
          { parent, collection: 'freshness_alerts', filters: [] },
        ]),
      );
      assert.equal(firestore.commits.length, commitsBefore, 'nothing to correct: no write');
      const pass = jsonLines(running.stdout()).find((line) =>
        String(line.message).startsWith('reconcile: pass done'),
      );
      assert.ok(pass, running.stdout());
      assert.equal(pass.severity, 'INFO');
      assert.equal(pass.service, 'recdeploy-reconcile');
      assert.equal(pass.tick, 'tick-1');
      assert.deepEqual(
        [pass.redrivenCount, pass.correctedCount, pass.errorCount],
        [0, 0, 0],
        JSON.stringify(pass),
      );
    } finally {
      await running.stop();
    }
  });

  it('register: acknowledges a failed pipeline job entry, recording it as ignored', async function () {
    const d = deploymentOf('register');
    const running = await startFunction(d);
    try {
      const before = firestore.commits.length;
      const entry = {
        logName: `projects/${PROJECT}/logs/aiplatform.googleapis.com%2Fpipeline_job_events`,
        resource: {
          type: 'aiplatform.googleapis.com/PipelineJob',
          labels: { resource_container: PROJECT, location: REGION, pipeline_job_id: 'job-1' },
        },
        jsonPayload: { state: 'PIPELINE_STATE_FAILED' },
      };
      const data = Buffer.from(JSON.stringify(entry)).toString('base64');
      const response = await postCloudEvent(running.url, d.triggerTopic, 'failed-job', data);
      assert.equal(response.status, 204);
      const commits = firestore.commits.slice(before);
      assert.equal(commits.length, 1, 'one write: the ignored-event record');
      const fields = commits[0]?.writes[0]?.fields;
      assert.equal(fields?.code?.stringValue, 'EVENT.IGNORED');
      assert.equal(fields?.kind?.stringValue, 'Vertex PipelineJob in state FAILED');
      const log = jsonLines(running.stdout()).find((line) => line.code === 'EVENT.IGNORED');
      assert.match(String(log?.message), /PIPELINE_STATE_FAILED/);
    } finally {
      await running.stop();
    }
  });

  /** Starts `npx functions-framework` in the packed directory; resolves once it serves. */
  async function startFunction(d: FunctionDeployment): Promise<RunningFunction> {
    const port = await freePort();
    const env = cleanEnv({
      ...deployEnv(d),
      FIRESTORE_EMULATOR_HOST: firestore.host,
      METADATA_SERVER_DETECTION: 'none',
      NODE_ENV: 'production',
    });
    const child: ChildProcessByStdio<null, Readable, Readable> = spawn(
      'npx',
      [
        '--no-install',
        'functions-framework',
        `--target=${d.entryPoint}`,
        '--signature-type=cloudevent',
        `--port=${port}`,
      ],
      { cwd: packedOf(d).outDir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let exitCode: number | null | undefined;
    void exited.then((code) => (exitCode = code));
    // npx runs the framework as its own child: stop the whole group we started.
    const stop = async () => {
      if (child.pid !== undefined && exitCode === undefined) process.kill(-child.pid, 'SIGTERM');
      await exited;
    };
    // With NODE_ENV=production (as on Cloud Functions) the framework prints
    // nothing when it listens: poll the port until it accepts a connection.
    const deadline = Date.now() + 30_000;
    while (!(await accepts(port))) {
      if (exitCode !== undefined) {
        throw new Error(`functions-framework exited (${exitCode}):\n${stdout}\n${stderr}`);
      }
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`not listening after 30 s:\n${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return { url: `http://127.0.0.1:${port}/`, stdout: () => stdout, stop };
  }
});

function deploymentOf(workspace: string): FunctionDeployment {
  const d = FUNCTION_DEPLOYMENTS.find((candidate) => candidate.workspace === workspace);
  assert.ok(d, `no descriptor for functions/${workspace}`);
  return d;
}

/** The descriptor's env with the project and region filled in, as the deploy step sets it. */
function deployEnv(d: FunctionDeployment): Record<string, string> {
  return Object.fromEntries(
    Object.entries(d.env).map(([key, value]) => [
      key,
      value.replaceAll('{project}', PROJECT).replaceAll('{region}', REGION),
    ]),
  );
}

/** A child's env: nothing from the test process (no tsx loader, no source condition). */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...(process.env.npm_config_cache === undefined
      ? {}
      : { npm_config_cache: process.env.npm_config_cache }),
    ...extra,
  };
}

/** An Eventarc-style binary-mode CloudEvent carrying `data` as the Pub/Sub message data. */
function postCloudEvent(url: string, topic: string, id: string, data: string): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'ce-id': id,
      'ce-specversion': '1.0',
      'ce-type': 'google.cloud.pubsub.topic.v1.messagePublished',
      'ce-source': `//pubsub.googleapis.com/projects/${PROJECT}/topics/${topic}`,
      'ce-time': '2026-01-19T16:49:47Z',
    },
    body: JSON.stringify({
      subscription: `projects/${PROJECT}/subscriptions/eventarc-${REGION}-${topic}-sub-000`,
      message: { data, messageId: id, publishTime: '2026-01-19T16:49:47Z', attributes: {} },
      deliveryAttempt: 1,
    }),
  });
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
