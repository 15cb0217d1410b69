import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
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

  it('takes the whole prefix when it is the ann/ directory itself, and never writes outside it', async () => {
    const bucket = new FakeBucket({
      'm/manifest.json': '{}',
      'm/../../escape.txt': 'no',
      'm/dir/': '',
    });
    const dir = await downloadGcsBundle('gs://b/m', cache, new RecordingLogger(), () =>
      Promise.resolve(bucket),
    );
    assert.deepEqual(bucket.queries, ['m/ann/', 'm/']);
    assert.deepEqual(await filesUnder(dir), ['.download-complete', 'manifest.json']);
    assert.deepEqual(await filesUnder(cache), ['b/m/.download-complete', 'b/m/manifest.json']);
  });

  it('fails clearly when nothing is there', async () => {
    await assert.rejects(
      downloadGcsBundle('gs://b/missing', cache, new RecordingLogger(), () =>
        Promise.resolve(new FakeBucket({})),
      ),
      (error: unknown) => {
        assert.equal((error as { code?: string }).code, 'BUNDLE.INVALID');
        assert.match((error as Error).message, /no objects under gs:\/\/b\/missing/);
        return true;
      },
    );
  });
});
