/**
 * `recdeploy build-index` records in index.json the training run whose
 * embeddings it indexed (the bundle manifest's declared fingerprint), so a
 * server that later finds the index beside other embeddings names that run.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { buildIndexCommand } from '../../../cli/src/commands/build-index.js';
import type { CliIo } from '../../../cli/src/cli-io.js';
import { sampleBundleWithoutIndex } from '../../support/ann-serving/sample-bundle.js';

describe('recdeploy build-index', function () {
  this.timeout(120_000);

  it("records the bundle's declared training run in index.json", async () => {
    const bundle = await sampleBundleWithoutIndex();
    const manifestFile = path.join(bundle.dir, 'ann', 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, unknown>;
    // A run id of this test's own, so the value cannot come from the sample trainer.
    manifest.fingerprint = { training_run_id: 'pipeline-run-4711' };
    await writeFile(manifestFile, JSON.stringify(manifest));
    const lines: string[] = [];
    const io: CliIo = { out: (line) => lines.push(line), err: () => undefined };
    await buildIndexCommand(io).parseAsync([bundle.dir, '--queries', '50', '--json'], {
      from: 'user',
    });
    const index = JSON.parse(
      await readFile(path.join(bundle.dir, 'ann', 'index', 'index.json'), 'utf8'),
    ) as { training_run_id?: string };
    assert.equal(index.training_run_id, 'pipeline-run-4711');
    assert.equal(
      (JSON.parse(lines.join('\n')) as { training_run_id?: string }).training_run_id,
      'pipeline-run-4711',
    );
  });
});
