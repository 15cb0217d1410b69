import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PermanentError, RecordingLogger, TransientError } from '@recdeploy/shared';
// Imported from its file until shared/adapters/gcp/index.ts exports it.
import { GcsArtifactStore } from '../../shared/adapters/gcp/gcs-artifact-store.js';
import { GcsJsonFake, type RecordedGcsRequest } from '../support/fakes/gcs-json-fake.js';

const BUCKET = 'recs-models';
const BUNDLE = 'runs/7/pushed_model';

function assertError(
  kind: typeof PermanentError | typeof TransientError,
  code: string,
  ...patterns: RegExp[]
) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof kind, `expected a ${kind.name}, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  };
}

/** Every file below `dir` as relative path → contents. */
function tree(dir: string): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    files[path.relative(dir, full)] = fs.readFileSync(full);
  }
  return files;
}

const summary = (requests: readonly RecordedGcsRequest[]): string[] =>
  requests.map((r) => `${r.kind} ${r.object ?? r.query.prefix ?? ''} ${r.status}`);

describe('GcsArtifactStore over HTTP to a fake Cloud Storage JSON API', () => {
  let fake: GcsJsonFake;
  let tmpDir = '';
  let logger: RecordingLogger;
  let store: GcsArtifactStore;

  beforeEach(async () => {
    fake = new GcsJsonFake([BUCKET]);
    await fake.start();
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-gcs-test-'));
    logger = new RecordingLogger();
    store = new GcsArtifactStore({
      logger,
      tmpDir: path.join(tmpDir, 'downloads'),
      storageOptions: fake.storageOptions(),
    });
    fs.mkdirSync(path.join(tmpDir, 'downloads'));
  });

  afterEach(async () => {
    await store.close();
    await fake.stop();
    fs.rmSync(tmpDir, { recursive: true, force: true });
  });

  describe('checkUri', () => {
    it('returns the normal form and makes no request', () => {
      assert.equal(store.checkUri(`gs://${BUCKET}/${BUNDLE}/`), `gs://${BUCKET}/${BUNDLE}`);
      assert.equal(store.checkUri(`gs://${BUCKET}/`), `gs://${BUCKET}`);
      assert.equal(store.checkUri('gs://a.b-c_d/x'), 'gs://a.b-c_d/x');
      assert.deepEqual(fake.requests, []);
    });

    const forbidden: [string, RegExp][] = [
      [
        'file:///data/models',
        /uses the file: scheme; the Cloud Storage store accepts only gs:\/\/bucket\/path URIs \(file:\/\/ URIs need the local store, configured with ARTIFACT_ROOTS\)/,
      ],
      ['s3://bucket/x', /uses the s3: scheme/],
      ['recs-models/x', /is not a gs:\/\/ URI/],
      ['gs://', /invalid bucket name "": use lowercase letters/],
      ['gs://Recs_Models/x', /invalid bucket name "Recs_Models"/],
      ['gs://ab/x', /must be 3 to 222 characters long/],
      [`gs://${'a'.repeat(64)}/x`, /without dots it must be at most 63 characters/],
      ['gs://a..b/x', /each dot-separated part must be 1 to 63 characters/],
      ['gs://192.168.1.10/x', /must not look like an IP address/],
      ['gs://google-models/x', /must not start with "goog" or contain "google"/],
      [
        `gs://${BUCKET}/runs/../secrets`,
        /unsafe object name "runs\/\.\.\/secrets": segment 2 of 3, "\.\.": "\.\." segments climb/,
      ],
      [
        `gs://${BUCKET}//etc/passwd`,
        /unsafe object name "\/etc\/passwd": segment 1 of 3, "": empty/,
      ],
      [`gs://${BUCKET}/a/./b`, /segment 2 of 3, "\.": "\." segments are not allowed/],
      [`gs://${BUCKET}/a\nb`, /control characters are not allowed/],
      [`gs://${BUCKET}/a/%2E%2e/b`, /segment 2 of 3, "%2E%2e": percent-decoded it is "\.\."/],
      [`gs://${BUCKET}/a/%252e%252e/b`, /percent-decoded 2 times it is "\.\."/],
      [`gs://${BUCKET}/a//`, /segment 2 of 2, "": empty/],
    ];
    for (const [uri, pattern] of forbidden) {
      it(`refuses ${JSON.stringify(uri).slice(0, 40)} with ARTIFACT.FORBIDDEN`, () => {
        assert.throws(
          () => store.checkUri(uri),
          assertError(PermanentError, 'ARTIFACT.FORBIDDEN', pattern),
        );
      });
    }
  });

  describe('openDirectory', () => {
    const candidates = Buffer.from(new Float32Array([0.5, -1, 2.25, 3]).buffer);
    const bundle: Record<string, Buffer> = {
      'saved_model.pb': Buffer.from([0x08, 0x01, 0x00, 0xff]),
      'variables/variables.index': Buffer.from('idx'),
      'ann/manifest.json': Buffer.from('{"format_version":1,"embedding_dim":2}'),
      'ann/query_model/model.json': Buffer.from('{"format":"graph-model"}'),
      'ann/candidates.f32': candidates,
      'ann/product_ids.json': Buffer.from('["p1","p2"]'),
    };

    beforeEach(() => {
      for (const [name, data] of Object.entries(bundle))
        fake.putObject(BUCKET, `${BUNDLE}/${name}`, data);
      fake.putObject(BUCKET, `${BUNDLE}/ann/`, ''); // a console-made folder placeholder
      fake.putObject(BUCKET, `${BUNDLE}_v2/saved_model.pb`, 'sibling prefix');
    });

    it('downloads a bundle-shaped tree byte for byte into a temporary directory', async () => {
      const dir = await store.openDirectory(`gs://${BUCKET}/${BUNDLE}/`);
      assert.equal(path.dirname(dir.path), path.join(tmpDir, 'downloads'));
      assert.deepEqual(tree(dir.path), bundle);
      const list = fake.requests.filter((r) => r.kind === 'list');
      assert.deepEqual(
        list.map((r) => r.query),
        [{ prefix: `${BUNDLE}/` }],
      );
      assert.deepEqual(
        fake.requests
          .filter((r) => r.kind === 'download')
          .map((r) => r.object)
          .sort(),
        Object.keys(bundle)
          .map((name) => `${BUNDLE}/${name}`)
          .sort(),
      );
      assert.equal(logger.lines.at(-1)?.message, 'artifact directory downloaded');
      assert.equal(logger.lines.at(-1)?.meta.objects, 6);
      await dir.release();
      assert.equal(fs.existsSync(dir.path), false);
      assert.deepEqual(fs.readdirSync(path.join(tmpDir, 'downloads')), []);
    });

    it('downloads only below the subdirectory when one is given', async () => {
      const dir = await store.openDirectory(`gs://${BUCKET}/${BUNDLE}`, 'ann');
      assert.deepEqual(Object.keys(tree(dir.path)).sort(), [
        'candidates.f32',
        'manifest.json',
        'product_ids.json',
        'query_model/model.json',
      ]);
      assert.deepEqual(fake.requests[0]?.query, { prefix: `${BUNDLE}/ann/` });
      await dir.release();
    });

    it('fails the whole download on an object name that would leave the directory, downloading nothing', async () => {
      const hostile = [
        'ann/../../../../escape.txt',
        '/double-slash',
        './dot',
        '%2e%2e/encoded',
        'back\\slash',
      ];
      for (const [index, rest] of hostile.entries()) {
        const prefix = `evil-${index}`;
        fake.putObject(BUCKET, `${prefix}/ok.txt`, 'ok');
        fake.putObject(BUCKET, `${prefix}/${rest}`, 'x');
        await assert.rejects(
          store.openDirectory(`gs://${BUCKET}/${prefix}`),
          assertError(
            PermanentError,
            'ARTIFACT.FORBIDDEN',
            new RegExp(
              `^gs://${BUCKET}/${prefix} holds an object that cannot be downloaded safely, ` +
                `${JSON.stringify(`${prefix}/${rest}`).replace(/[.\\]/g, '\\$&')}: segment \\d of \\d, `,
            ),
          ),
        );
      }
      assert.deepEqual(
        fake.requests.filter((r) => r.kind === 'download'),
        [],
        'nothing is downloaded from a directory holding a hostile name',
      );
      // Nothing landed beside the download directory or above it, and nothing is left behind.
      assert.deepEqual(fs.readdirSync(tmpDir), ['downloads']);
      assert.deepEqual(fs.readdirSync(path.join(tmpDir, 'downloads')), []);
    });

    it('skips an object that others lie below (a file cannot be a directory too), and says which', async () => {
      fake.putObject(BUCKET, 'clash/conflict', 'x');
      fake.putObject(BUCKET, 'clash/conflict/inner', 'inner');
      fake.putObject(BUCKET, 'clash/ok.txt', 'ok');
      const dir = await store.openDirectory(`gs://${BUCKET}/clash`);
      assert.deepEqual(tree(dir.path), {
        'ok.txt': Buffer.from('ok'),
        'conflict/inner': Buffer.from('inner'),
      });
      const warning = logger.lines.find((line) => line.level === 'warn');
      assert.equal(warning?.message, 'objects that other objects lie below skipped');
      assert.deepEqual(warning?.meta, { uri: `gs://${BUCKET}/clash`, objects: ['clash/conflict'] });
      await dir.release();
    });

    it('refuses a subdirectory that is not a relative path of safe segments', async () => {
      for (const subdir of ['../x', 'ann/..', '/abs', 'a//b', '%2e%2e']) {
        await assert.rejects(
          store.openDirectory(`gs://${BUCKET}/${BUNDLE}`, subdir),
          assertError(
            PermanentError,
            'ARTIFACT.FORBIDDEN',
            /must be a relative path of safe segments: segment/,
          ),
        );
      }
      assert.deepEqual(fake.requests, []);
    });

    it('answers ARTIFACT.NOT_FOUND when nothing (or nothing safe) is there, leaving no directory', async () => {
      await assert.rejects(
        store.openDirectory(`gs://${BUCKET}/runs/8/pushed_model`),
        assertError(
          PermanentError,
          'ARTIFACT.NOT_FOUND',
          /^no objects under gs:\/\/recs-models\/runs\/8\/pushed_model\/$/,
        ),
      );
      fake.putObject(BUCKET, 'only-folders/a/', '');
      await assert.rejects(
        store.openDirectory(`gs://${BUCKET}/only-folders`),
        assertError(
          PermanentError,
          'ARTIFACT.NOT_FOUND',
          /no objects under gs:\/\/recs-models\/only-folders\//,
        ),
      );
      assert.deepEqual(fs.readdirSync(path.join(tmpDir, 'downloads')), []);
    });

    it('maps a failed download to a retryable error and removes the partial copy', async () => {
      fake.failNext(503, {
        message: 'backend unavailable',
        when: (r) => r.kind === 'download' && r.object === `${BUNDLE}/ann/candidates.f32`,
      });
      await assert.rejects(
        store.openDirectory(`gs://${BUCKET}/${BUNDLE}`),
        assertError(
          TransientError,
          'DEPENDENCY.UNAVAILABLE',
          /^Cloud Storage download of gs:\/\/recs-models\/runs\/7\/pushed_model failed \(HTTP 503\): backend unavailable$/,
        ),
      );
      assert.deepEqual(fs.readdirSync(path.join(tmpDir, 'downloads')), []);
    });

    it('removes directories never released when the store closes', async () => {
      const dir = await store.openDirectory(`gs://${BUCKET}/${BUNDLE}`);
      await store.close();
      assert.equal(fs.existsSync(dir.path), false);
    });
  });

  describe('readText', () => {
    it('reads an object after checking its size, pinned to the generation it checked', async () => {
      fake.putObject(BUCKET, `${BUNDLE}/ann/manifest.json`, '{"name":"zażółć"}');
      const generation = `${fake.getObject(BUCKET, `${BUNDLE}/ann/manifest.json`)?.generation}`;
      assert.equal(
        await store.readText(`gs://${BUCKET}/${BUNDLE}/ann/manifest.json`),
        '{"name":"zażółć"}',
      );
      assert.deepEqual(
        fake.requests.map((r) => [r.kind, r.query.generation]),
        [
          ['metadata', undefined],
          ['download', generation],
        ],
      );
    });

    it('refuses an object above maxBytes without downloading it', async () => {
      fake.putObject(BUCKET, 'big.json', '0123456789');
      await assert.rejects(
        store.readText(`gs://${BUCKET}/big.json`, 9),
        assertError(
          PermanentError,
          'ARTIFACT.TOO_LARGE',
          /^gs:\/\/recs-models\/big\.json is 10 bytes, above the 9-byte limit/,
        ),
      );
      assert.deepEqual(summary(fake.requests), ['metadata big.json 200']);
      assert.equal(await store.readText(`gs://${BUCKET}/big.json`, 10), '0123456789');
    });

    it('maps 404, 403, 401, 400, 429 and 500 to recdeploy errors', async () => {
      const uri = `gs://${BUCKET}/m.json`;
      await assert.rejects(
        store.readText(uri),
        assertError(
          PermanentError,
          'ARTIFACT.NOT_FOUND',
          /^Cloud Storage read of gs:\/\/recs-models\/m\.json failed \(HTTP 404\): No such object: recs-models\/m\.json$/,
        ),
      );
      fake.putObject(BUCKET, 'm.json', '{}');
      const cases: [number, typeof PermanentError | typeof TransientError, string][] = [
        [403, PermanentError, 'ARTIFACT.FORBIDDEN'],
        [401, PermanentError, 'ARTIFACT.FORBIDDEN'],
        [400, PermanentError, 'ARTIFACT.FORBIDDEN'],
        [429, TransientError, 'DEPENDENCY.UNAVAILABLE'],
        [500, TransientError, 'DEPENDENCY.UNAVAILABLE'],
      ];
      for (const [status, kind, code] of cases) {
        fake.failNext(status, { message: `denied ${status}` });
        await assert.rejects(
          store.readText(uri),
          assertError(kind, code, new RegExp(`failed \\(HTTP ${status}\\): denied ${status}$`)),
        );
      }
      // A failure on the download itself (its error body arrives raw) reads the same.
      fake.failNext(403, {
        message: 'caller lacks storage.objects.get',
        when: (r) => r.kind === 'download',
      });
      await assert.rejects(
        store.readText(uri),
        assertError(
          PermanentError,
          'ARTIFACT.FORBIDDEN',
          /\(HTTP 403\): caller lacks storage\.objects\.get$/,
        ),
      );
    });

    it('maps an unreachable endpoint to a retryable error', async () => {
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const offline = new GcsArtifactStore({
        logger,
        storageOptions: { ...fake.storageOptions(), apiEndpoint: `http://127.0.0.1:${port}` },
      });
      await assert.rejects(
        offline.readText(`gs://${BUCKET}/m.json`),
        assertError(
          TransientError,
          'DEPENDENCY.UNAVAILABLE',
          /^Cloud Storage read of gs:\/\/recs-models\/m\.json failed: .*ECONNREFUSED/,
        ),
      );
    });
  });

  describe('exists', () => {
    it('finds an object, a directory prefix, and nothing', async () => {
      fake.putObject(BUCKET, `${BUNDLE}/saved_model.pb`, 'pb');
      fake.putObject(BUCKET, `${BUNDLE}x`, 'a name sharing the prefix, not below it');
      assert.equal(await store.exists(`gs://${BUCKET}/${BUNDLE}/saved_model.pb`), true);
      assert.deepEqual(summary(fake.requests.splice(0)), [`metadata ${BUNDLE}/saved_model.pb 200`]);

      assert.equal(await store.exists(`gs://${BUCKET}/${BUNDLE}`), true);
      assert.deepEqual(summary(fake.requests), [`metadata ${BUNDLE} 404`, `list ${BUNDLE}/ 200`]);
      assert.equal(fake.requests[1]?.query.maxResults, '1');

      assert.equal(await store.exists(`gs://${BUCKET}/runs/8`), false);
      assert.equal(await store.exists('gs://no-such-bucket/x'), false);
    });

    it('reports a 503 as retryable instead of "absent"', async () => {
      fake.failNext(503);
      await assert.rejects(
        store.exists(`gs://${BUCKET}/x`),
        assertError(
          TransientError,
          'DEPENDENCY.UNAVAILABLE',
          /exists of gs:\/\/recs-models\/x failed \(HTTP 503\)/,
        ),
      );
    });
  });

  describe('putDirectory', () => {
    let source = '';
    const files: Record<string, string> = {
      'index.json': '{"params":{"M":16}}',
      'shards/1.bin': 'one',
      'shards/0.bin': 'zero',
      'params.json': '{"ef":64}',
      'report/.complete': '',
      'report/recall.json': '{"recall_at_100":0.97}',
    };

    beforeEach(() => {
      source = path.join(tmpDir, 'build');
      for (const [name, contents] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(source, name)), { recursive: true });
        fs.writeFileSync(path.join(source, name), contents);
      }
    });

    it('uploads sorted, markers last (deepest first), after deleting old markers', async () => {
      await store.putDirectory(source, `gs://${BUCKET}/${BUNDLE}/ann/index/`);
      const prefix = `${BUNDLE}/ann/index`;
      assert.deepEqual(summary(fake.requests), [
        `delete ${prefix}/report/.complete 404`,
        `delete ${prefix}/index.json 404`,
        `upload ${prefix}/params.json 200`,
        `upload ${prefix}/report/recall.json 200`,
        `upload ${prefix}/shards/0.bin 200`,
        `upload ${prefix}/shards/1.bin 200`,
        `upload ${prefix}/report/.complete 200`,
        `upload ${prefix}/index.json 200`,
      ]);
      assert.ok(
        fake.requests
          .filter((r) => r.kind === 'upload')
          .every((r) => r.query.uploadType === 'multipart'),
      );
      for (const [name, contents] of Object.entries(files)) {
        assert.equal(
          fake.getObject(BUCKET, `${prefix}/${name}`)?.data.toString('utf8'),
          contents,
          name,
        );
      }
      assert.deepEqual(logger.lines.at(-1), {
        level: 'info',
        message: 'artifact directory uploaded',
        meta: { uri: `gs://${BUCKET}/${BUNDLE}/ann/index/`, objects: 6 },
      });
    });

    it('uses the configured marker names', async () => {
      const custom = new GcsArtifactStore({
        logger,
        storageOptions: fake.storageOptions(),
        markerFileNames: ['params.json'],
      });
      await custom.putDirectory(source, `gs://${BUCKET}/idx`);
      assert.deepEqual(
        fake.requests.filter((r) => r.kind !== 'upload').map((r) => r.object),
        ['idx/params.json'],
      );
      assert.equal(fake.requests.at(-1)?.object, 'idx/params.json');
    });

    it('takes the old marker away before replacing a directory, so a failed re-put shows as incomplete', async () => {
      await store.putDirectory(source, `gs://${BUCKET}/idx`);
      fake.requests.splice(0);
      fs.writeFileSync(path.join(source, 'shards', '1.bin'), 'one v2');
      fake.failNext(503, { when: (r) => r.kind === 'upload' && r.object === 'idx/shards/1.bin' });
      await assert.rejects(
        store.putDirectory(source, `gs://${BUCKET}/idx`),
        assertError(
          TransientError,
          'DEPENDENCY.UNAVAILABLE',
          /^Cloud Storage upload of gs:\/\/recs-models\/idx failed \(HTTP 503\)/,
        ),
      );
      assert.deepEqual(summary(fake.requests), [
        'delete idx/report/.complete 204',
        'delete idx/index.json 204',
        'upload idx/params.json 200',
        'upload idx/report/recall.json 200',
        'upload idx/shards/0.bin 200',
        'upload idx/shards/1.bin 503',
      ]);
      assert.equal(fake.getObject(BUCKET, 'idx/index.json'), undefined);
      assert.equal(fake.getObject(BUCKET, 'idx/report/.complete'), undefined);
    });

    it('maps a refused upload to ARTIFACT.FORBIDDEN and refuses a missing or empty source', async () => {
      fake.failNext(403, {
        message: 'no storage.objects.create',
        when: (r) => r.kind === 'upload',
      });
      await assert.rejects(
        store.putDirectory(source, `gs://${BUCKET}/idx`),
        assertError(
          PermanentError,
          'ARTIFACT.FORBIDDEN',
          /\(HTTP 403\): no storage\.objects\.create$/,
        ),
      );
      await assert.rejects(
        store.putDirectory(path.join(tmpDir, 'none'), `gs://${BUCKET}/idx`),
        assertError(PermanentError, 'INPUT.INVALID', /source directory .*\/none does not exist/),
      );
      fs.mkdirSync(path.join(tmpDir, 'empty'));
      await assert.rejects(
        store.putDirectory(path.join(tmpDir, 'empty'), `gs://${BUCKET}/idx`),
        assertError(PermanentError, 'INPUT.INVALID', /source directory .*\/empty holds no files/),
      );
    });

    it('refuses, before any request, a local file whose object name a reader would refuse', async () => {
      for (const name of ['%2e%2e', 'a\\b']) {
        const dir = path.join(tmpDir, `bad-${name.length}`);
        fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
        fs.writeFileSync(path.join(dir, 'ok.json'), '{}');
        fs.writeFileSync(path.join(dir, 'sub', name), 'x');
        await assert.rejects(
          store.putDirectory(dir, `gs://${BUCKET}/idx`),
          assertError(
            PermanentError,
            'INPUT.INVALID',
            /cannot be uploaded to gs:\/\/recs-models\/idx, its object name is unsafe: segment 3 of 3/,
          ),
        );
      }
      assert.deepEqual(fake.requests, []);
      await assert.rejects(
        store.putDirectory(source, `gs://${BUCKET}/idx/../other`),
        assertError(PermanentError, 'ARTIFACT.FORBIDDEN', /segment 2 of 3, "\.\."/),
      );
    });
  });
});
