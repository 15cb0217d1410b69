/**
 * Stopping a sharded index build part-way, in this process's own worker
 * threads. The build threads used to be stopped with `worker.terminate()`,
 * which aborts the whole process (FATAL napi_throw) when it lands inside
 * hnswlib's `addPoint`: about one stop in twenty did so here. If that came
 * back, these tests would take mocha down with them rather than fail quietly.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { buildShards, type ShardBuildOptions } from '../../shared/ann/search/shard-build.js';
import { planShards } from '../../shared/ann/search/shard-plan.js';
import { clusteredVectors } from '../support/ann-vectors.js';

const COUNT = 20_000;
const DIM = 32;

describe('buildShards, stopped part-way', function () {
  this.timeout(120_000);
  let dir: string;
  const vectors = clusteredVectors({ count: COUNT, dim: DIM, clusters: 40, normalise: true });
  const plan = planShards('normalize', new Float64Array(COUNT).fill(1), 2);

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'recdeploy-shard-build-'));
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  function options(overrides: Partial<ShardBuildOptions>): ShardBuildOptions {
    return {
      candidates: { vectors, count: COUNT, dim: DIM },
      plan,
      m: 16,
      efConstruction: 200,
      seed: 7,
      dir,
      ...overrides,
    };
  }

  it('an abort stops every build thread between two inserts, writes no graph and leaves the process running', async () => {
    // Several stops at different points of the build, as the crash was a matter of timing;
    // all below 10,000 rows in all, so neither 10,000-row shard can have finished (and written).
    for (const afterRows of [2_000, 4_000, 6_000, 8_000, 2_000, 4_000, 6_000, 8_000]) {
      const controller = new AbortController();
      let inserted = 0;
      let insertedAtAbort = -1;
      const build = buildShards(
        options({
          signal: controller.signal,
          onInserted: (done) => {
            inserted = done;
            if (done >= afterRows && insertedAtAbort < 0) {
              insertedAtAbort = done;
              controller.abort();
            }
          },
        }),
      );
      await assert.rejects(build, { name: 'AbortError' });
      assert.ok(insertedAtAbort > 0, 'the abort happened during the build');
      assert.ok(inserted < COUNT, `stopped before the end (${inserted} of ${COUNT} rows)`);
      assert.deepEqual(await fs.readdir(dir), [], 'no graph file written');
    }
  });

  it('rejects an already aborted signal with its reason, starting nothing', async () => {
    const controller = new AbortController();
    controller.abort(new Error('deploy cancelled'));
    let progress = 0;
    await assert.rejects(
      buildShards(options({ signal: controller.signal, onInserted: () => progress++ })),
      /deploy cancelled/,
    );
    assert.equal(progress, 0);
  });

  it('builds to the end without a signal, one file per shard', async () => {
    const files = await buildShards(options({}));
    assert.deepEqual(
      files.map((f) => [f.file, f.count]),
      [
        ['hnsw-0.bin', COUNT / 2],
        ['hnsw-1.bin', COUNT / 2],
      ],
    );
    assert.deepEqual((await fs.readdir(dir)).sort(), ['hnsw-0.bin', 'hnsw-1.bin']);
  });
});
