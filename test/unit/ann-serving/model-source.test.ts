import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RecordingLogger } from '@recdeploy/shared';
import {
  downloadGcsBundle,
  type BucketFile,
  type BucketLike,
} from '../../../services/ann-serving/src/model/gcs-download.js';
import { localModelDir } from '../../../services/ann-serving/src/model/model-source.js';

/** An in-memory bucket: object name → content. */
class FakeBucket implements BucketLike {
  readonly queries: string[] = [];
  constructor(private readonly objects: Record<string, string>) {}

  getFiles(query: { prefix: string }): Promise<[BucketFile[]]> {
    this.queries.push(query.prefix);
    const files = Object.keys(this.objects)
      .filter((name) => name.startsWith(query.prefix))
      .map((name) => ({
        name,
        download: ({ destination }: { destination: string }) =>
          writeFile(destination, this.objects[name]!),
      }));
    return Promise.resolve([files]);
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

describe('ann-serving model source', () => {
  let cache: string;
  beforeEach(async () => {
    cache = await mkdtemp(path.join(os.tmpdir(), 'ann-serving-cache-'));
  });
  afterEach(() => rm(cache, { recursive: true, force: true }));

  it('uses file:// URLs and plain paths in place', async () => {
    const logger = new RecordingLogger();
    assert.equal(await localModelDir('file:///models/m%201', cache, logger), '/models/m 1');
    assert.equal(await localModelDir('/models/m', cache, logger), '/models/m');
  });

  it('downloads only the ann/ part of a gs:// artifact, once', async () => {
    const bucket = new FakeBucket({
      'runs/7/saved_model.pb': 'graph',
      'runs/7/variables/variables.data': 'weights',
      'runs/7/ann/manifest.json': '{}',
      'runs/7/ann/vocab/city.txt': 'Warsaw\n',
      'runs/8/ann/manifest.json': 'other model',
    });
    let opened = 0;
    const open = (name: string) => {
      assert.equal(name, 'models-bucket');
      opened++;
      return Promise.resolve(bucket);
    };
    const logger = new RecordingLogger();
    const dir = await downloadGcsBundle('gs://models-bucket/runs/7/', cache, logger, open);
    assert.equal(dir, path.join(cache, 'models-bucket', 'runs', '7'));
    assert.deepEqual(await filesUnder(dir), [
      '.download-complete',
      'ann/manifest.json',
      'ann/vocab/city.txt',
    ]);
    assert.equal(await readFile(path.join(dir, 'ann/vocab/city.txt'), 'utf8'), 'Warsaw\n');
    assert.deepEqual(bucket.queries, ['runs/7/ann/']);

    assert.equal(await downloadGcsBundle('gs://models-bucket/runs/7', cache, logger, open), dir);
    assert.equal(opened, 1, 'a completed download is reused');
  });

  it('takes the whole prefix when it is the ann/ directory itself', async () => {
    const bucket = new FakeBucket({ 'm/manifest.json': '{}', 'm/dir/': '', 'm/dir/a.txt': 'a' });
    const dir = await downloadGcsBundle('gs://bkt/m', cache, new RecordingLogger(), () =>
      Promise.resolve(bucket),
    );
    assert.deepEqual(bucket.queries, ['m/ann/', 'm/']);
    assert.deepEqual(await filesUnder(cache), [
      'bkt/m/.download-complete',
      'bkt/m/dir/a.txt',
      'bkt/m/manifest.json',
    ]);
    assert.equal(dir, path.join(cache, 'bkt', 'm'));
  });

  describe('paths that would leave the cache', () => {
    let victim: string;
    beforeEach(async () => {
      // A directory beside the cache, as `gs://bkt/../../victim` would have named it.
      victim = path.join(path.dirname(cache), `${path.basename(cache)}-victim`);
      await mkdir(victim, { recursive: true });
      await writeFile(path.join(victim, 'precious.txt'), 'keep me');
    });
    afterEach(() => rm(victim, { recursive: true, force: true }));

    const refused = (pattern: RegExp) => (error: unknown) => {
      assert.equal((error as { code?: string }).code, 'ARTIFACT.FORBIDDEN');
      assert.match((error as Error).message, pattern);
      return true;
    };

    it('refuses a MODEL_PATH that climbs, before opening the bucket or deleting anything', async () => {
      const climbing = path.relative(path.join(cache, 'bkt'), victim); // "../../<cache>-victim"
      const uris = [
        `gs://bkt/${climbing}`,
        'gs://bkt/../../victim',
        'gs://bkt/%2e%2e/victim',
        'gs://bkt/a//b',
        'gs://bkt/./m',
      ];
      let opened = 0;
      for (const uri of uris) {
        await assert.rejects(
          downloadGcsBundle(uri, cache, new RecordingLogger(), () => {
            opened++;
            return Promise.resolve(new FakeBucket({ [`${uri.slice(9)}/ann/x`]: 'x' }));
          }),
          refused(
            /^artifact URI gs:\/\/bkt\/\S+ has an unsafe object name ".*": segment \d of \d, "[^"]*": /,
          ),
        );
      }
      assert.equal(opened, 0, 'the bucket is never opened');
      assert.deepEqual(await filesUnder(victim), ['precious.txt']);
      assert.equal(await readFile(path.join(victim, 'precious.txt'), 'utf8'), 'keep me');
    });

    it('fails the whole download on one hostile object name, keeping the previous copy and writing nothing', async () => {
      const good = new FakeBucket({ 'm/ann/manifest.json': '{"v":1}' });
      const dir = await downloadGcsBundle('gs://bkt/m', cache, new RecordingLogger(), () =>
        Promise.resolve(good),
      );
      await rm(path.join(dir, '.download-complete')); // an interrupted earlier download: it restarts
      const hostile = new FakeBucket({
        'm/ann/manifest.json': '{"v":2}',
        'm/ann/../../escape.txt': 'no',
        'm/ann/%2e%2e/escape.txt': 'no',
      });
      await assert.rejects(
        downloadGcsBundle('gs://bkt/m', cache, new RecordingLogger(), () =>
          Promise.resolve(hostile),
        ),
        refused(
          /^gs:\/\/bkt\/m holds an object that cannot be downloaded safely, "m\/ann\/\.\.\/\.\.\/escape\.txt": segment 2 of 4, "\.\.": "\.\." segments climb/,
        ),
      );
      // Checked before anything was removed or written: the old copy is intact, nothing escaped.
      assert.deepEqual(await filesUnder(cache), ['bkt/m/ann/manifest.json']);
      assert.equal(await readFile(path.join(dir, 'ann/manifest.json'), 'utf8'), '{"v":1}');
      assert.deepEqual(await filesUnder(victim), ['precious.txt']);
    });
  });

  it('fails clearly when nothing is there', async () => {
    await assert.rejects(
      downloadGcsBundle('gs://bkt/missing', cache, new RecordingLogger(), () =>
        Promise.resolve(new FakeBucket({})),
      ),
      (error: unknown) => {
        assert.equal((error as { code?: string }).code, 'BUNDLE.INVALID');
        assert.match((error as Error).message, /no objects under gs:\/\/bkt\/missing/);
        return true;
      },
    );
  });
});
