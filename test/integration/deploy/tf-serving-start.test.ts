/**
 * deploy/tf_serving_native/start.sh, run by bash as the image runs it, with
 * loopback stand-ins for what it talks to: the metadata server (its token),
 * the Cloud Storage JSON API (listing in pages, media downloads; every request
 * recorded with its Authorization header), and the server binary
 * (TF_SERVING_BIN: a script that records the arguments it was exec'd with).
 * Needs curl and jq, as the image has them.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmod, mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const START = fileURLToPath(new URL('../../../deploy/tf_serving_native/start.sh', import.meta.url));
const TOKEN = 'ya29.test-token';
const BUCKET = 'recs-models';
const MODEL_PREFIX = 'serving/pushed_model/1768842986';

interface RecordedRequest {
  readonly path: string;
  readonly query: Record<string, string>;
  readonly authorization: string | undefined;
  readonly metadataFlavor: string | undefined;
}

/** Cloud Storage JSON API: list (2 names a page) and `alt=media`, for one bucket. */
class StorageStandIn {
  readonly requests: RecordedRequest[] = [];
  readonly objects = new Map<string, string>();
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const query = Object.fromEntries(url.searchParams);
    this.requests.push({
      path: url.pathname,
      query,
      authorization: req.headers.authorization,
      metadataFlavor: undefined,
    });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return json(res, 401, { error: 'auth' });
    const list = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
    if (list && decodeURIComponent(list[1] ?? '') === BUCKET) {
      const names = [...this.objects.keys()]
        .filter((name) => name.startsWith(query.prefix ?? '') && name > (query.pageToken ?? ''))
        .sort();
      const page = names.slice(0, 2);
      return json(res, 200, {
        items: page.map((name) => ({ name })),
        ...(names.length > 2 ? { nextPageToken: page.at(-1) } : {}),
      });
    }
    const object = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(url.pathname);
    const content = this.objects.get(decodeURIComponent(object?.[2] ?? ''));
    if (object && query.alt === 'media' && content !== undefined) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(content);
      return;
    }
    json(res, 404, { error: { code: 404, message: `no ${url.pathname}` } });
  }
}

/** The metadata server's token endpoint. */
class MetadataStandIn {
  readonly requests: RecordedRequest[] = [];
  private readonly server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const flavor = req.headers['metadata-flavor'];
    this.requests.push({
      path: url.pathname,
      query: {},
      authorization: undefined,
      metadataFlavor: typeof flavor === 'string' ? flavor : undefined,
    });
    if (
      flavor === 'Google' &&
      url.pathname === '/computeMetadata/v1/instance/service-accounts/default/token'
    ) {
      return json(res, 200, { access_token: TOKEN, expires_in: 3599, token_type: 'Bearer' });
    }
    json(res, 404, {});
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

interface StartResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The server's argv, when the script exec'd it. */
  readonly serverArgs?: string[];
}

describe('deploy/tf_serving_native/start.sh', function () {
  this.timeout(30_000);
  const storage = new StorageStandIn();
  const metadata = new MetadataStandIn();
  let storageUrl: string;
  let metadataHost: string;
  let tmp: string;
  let fakeServer: string;

  before(async function () {
    for (const tool of ['bash', 'curl', 'jq']) {
      const found = spawnSync('bash', ['-c', `command -v ${tool}`]).status === 0;
      assert.ok(found, `${tool} is missing: install it (apt-get install -y ${tool})`);
    }
    storageUrl = await storage.start();
    metadataHost = await metadata.start();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'recdeploy-tf-start-'));
    fakeServer = path.join(tmp, 'fake-model-server');
    // Records its argv, one per line, where SERVER_ARGS_FILE says.
    await writeFile(
      fakeServer,
      '#!/usr/bin/env bash\nprintf \'%s\\n\' "$@" > "$SERVER_ARGS_FILE"\n',
    );
    await chmod(fakeServer, 0o755);
  });

  after(async function () {
    await storage.stop();
    await metadata.stop();
    await rm(tmp, { recursive: true, force: true });
  });

  beforeEach(function () {
    storage.requests.length = 0;
    metadata.requests.length = 0;
    storage.objects.clear();
  });

  async function runStart(env: Record<string, string>): Promise<StartResult> {
    const base = await mkdtemp(path.join(tmp, 'models-'));
    const argsFile = path.join(base, 'server-args.txt');
    const child = spawn('bash', [START, '--rest_api_timeout_in_ms=30000'], {
      env: {
        PATH: process.env.PATH ?? '',
        MODEL_BASE_PATH: base,
        PORT: '8501',
        GCE_METADATA_HOST: metadataHost,
        STORAGE_EMULATOR_HOST: storageUrl,
        TF_SERVING_BIN: fakeServer,
        SERVER_ARGS_FILE: argsFile,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const serverArgs = await readFile(argsFile, 'utf8').then(
      (text) => text.trimEnd().split('\n'),
      () => undefined,
    );
    return { code, stdout, stderr, ...(serverArgs === undefined ? {} : { serverArgs }) };
  }

  function putModel(prefix: string, files: Record<string, string>): void {
    for (const [name, content] of Object.entries(files))
      storage.objects.set(`${prefix}/${name}`, content);
  }

  it('downloads every object below MODEL_PATH (all pages) into $MODEL_BASE_PATH/$MODEL_NAME/1 and execs the server', async function () {
    putModel(MODEL_PREFIX, {
      'saved_model.pb': 'graph-bytes',
      'fingerprint.pb': 'fp',
      'variables/variables.index': 'index-bytes',
      'variables/variables.data-00000-of-00001': 'weights',
      'assets/': '',
    });
    // A sibling version whose name starts with the same digits must not leak in.
    putModel(`${MODEL_PREFIX}0`, { 'saved_model.pb': 'other model' });
    const result = await runStart({
      MODEL_PATH: `gs://${BUCKET}/${MODEL_PREFIX}`,
      MODEL_NAME: 'recommender',
    });
    assert.equal(result.code, 0, result.stderr);
    const base = path.dirname(argValue(result, '--batching_parameters_file'));
    const versionDir = path.join(base, 'recommender', '1');
    assert.deepEqual(await listTree(versionDir), [
      'fingerprint.pb',
      'saved_model.pb',
      'variables/variables.data-00000-of-00001',
      'variables/variables.index',
    ]);
    assert.equal(await readFile(path.join(versionDir, 'saved_model.pb'), 'utf8'), 'graph-bytes');
    assert.equal(
      await readFile(path.join(versionDir, 'variables/variables.data-00000-of-00001'), 'utf8'),
      'weights',
    );

    assert.deepEqual(result.serverArgs, [
      '--port=8500',
      '--rest_api_port=8501',
      '--model_name=recommender',
      `--model_base_path=${path.join(base, 'recommender')}`,
      '--enable_batching=true',
      `--batching_parameters_file=${path.join(base, 'batching_parameters.txt')}`,
      '--rest_api_timeout_in_ms=30000',
    ]);
    assert.equal(
      await readFile(path.join(base, 'batching_parameters.txt'), 'utf8'),
      'max_batch_size { value: 64 }\n' +
        'batch_timeout_micros { value: 10000 }\n' +
        'max_enqueued_batches { value: 100 }\n' +
        'num_batch_threads { value: 4 }\n',
    );

    // The token came from the metadata server and went with every Cloud Storage request.
    assert.deepEqual(
      metadata.requests.map((r) => [r.path, r.metadataFlavor]),
      [['/computeMetadata/v1/instance/service-accounts/default/token', 'Google']],
    );
    assert.ok(storage.requests.every((r) => r.authorization === `Bearer ${TOKEN}`));
    const lists = storage.requests.filter((r) => r.query.alt === undefined);
    assert.deepEqual(
      lists.map((r) => [r.path, r.query.prefix, r.query.pageToken]),
      [
        [`/storage/v1/b/${BUCKET}/o`, `${MODEL_PREFIX}/`, undefined],
        [`/storage/v1/b/${BUCKET}/o`, `${MODEL_PREFIX}/`, `${MODEL_PREFIX}/fingerprint.pb`],
        [
          `/storage/v1/b/${BUCKET}/o`,
          `${MODEL_PREFIX}/`,
          `${MODEL_PREFIX}/variables/variables.data-00000-of-00001`,
        ],
      ],
    );
    assert.equal(storage.requests.filter((r) => r.query.alt === 'media').length, 4);
    assert.match(result.stdout, /"message":"downloaded 4 files from gs:\/\/recs-models\//);
  });

  it('stops with a clear message, before starting the server, when saved_model.pb is missing', async function () {
    putModel(MODEL_PREFIX, { 'keras_metadata.pb': 'k', 'ann/manifest.json': '{}' });
    const modelPath = `gs://${BUCKET}/${MODEL_PREFIX}`;
    const result = await runStart({ MODEL_PATH: modelPath });
    assert.equal(result.code, 1);
    assert.equal(result.serverArgs, undefined, 'the server was not started');
    const line = JSON.parse(result.stderr.trim().split('\n').at(-1) ?? '{}') as Record<
      string,
      string
    >;
    assert.equal(line.severity, 'ERROR');
    assert.equal(
      line.message,
      `MODEL_PATH ${modelPath} has no saved_model.pb at its top level (found: ann keras_metadata.pb); point it at the versioned SavedModel directory, e.g. …/pushed_model/1768842986`,
    );
  });

  it('names the path when MODEL_PATH holds nothing', async function () {
    const result = await runStart({ MODEL_PATH: `gs://${BUCKET}/nothing/here` });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /MODEL_PATH gs:\/\/recs-models\/nothing\/here holds no objects/);
  });

  it('requires MODEL_PATH and says what it should be', async function () {
    const result = await runStart({});
    assert.equal(result.code, 1);
    assert.match(result.stderr, /MODEL_PATH is required: the versioned SavedModel directory/);
    assert.equal(metadata.requests.length, 0);
  });

  it('says where the token should have come from when the metadata server is unreachable', async function () {
    putModel(MODEL_PREFIX, { 'saved_model.pb': 'graph' });
    const result = await runStart({
      MODEL_PATH: `gs://${BUCKET}/${MODEL_PREFIX}`,
      GCE_METADATA_HOST: '127.0.0.1:9',
    });
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /cannot get an access token from the metadata server at 127\.0\.0\.1:9/,
    );
    assert.equal(storage.requests.length, 0);
  });

  it('copies a local directory (docker run -v) the same way', async function () {
    const local = path.join(tmp, 'local-model');
    await mkdir(path.join(local, 'variables'), { recursive: true });
    await writeFile(path.join(local, 'saved_model.pb'), 'local graph');
    await writeFile(path.join(local, 'variables', 'variables.index'), 'i');
    const result = await runStart({ MODEL_PATH: `file://${local}`, MODEL_NAME: 'ranker' });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(argValue(result, '--model_name'), 'ranker');
    const versionDir = path.join(argValue(result, '--model_base_path'), '1');
    assert.deepEqual(await listTree(versionDir), ['saved_model.pb', 'variables/variables.index']);
    assert.equal(storage.requests.length + metadata.requests.length, 0);
  });
});

function argValue(result: StartResult, flag: string): string {
  const arg = result.serverArgs?.find((a) => a.startsWith(`${flag}=`));
  assert.ok(arg, `${flag} not passed: ${JSON.stringify(result.serverArgs)}`);
  return arg.slice(flag.length + 1);
}

async function listTree(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const relative = path.posix.join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...(await listTree(dir, relative)));
    else out.push(relative);
  }
  return out.sort();
}
