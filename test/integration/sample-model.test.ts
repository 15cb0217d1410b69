import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createPreprocessor,
  loadQueryEncoder,
  readBundle,
  trainSampleModel,
  type SampleModelSummary,
} from '@recdeploy/shared/ann';

const LAUNCHER = fileURLToPath(new URL('../../cli/bin/recdeploy.js', import.meta.url));

/** Runs the real CLI launcher as a child process. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LAUNCHER, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('sample-model', function () {
  this.timeout(120_000);
  let root: string;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'recdeploy-sample-'));
  });
  after(async () => rm(root, { recursive: true, force: true }));

  describe('a small trained model', () => {
    let summary: SampleModelSummary;
    const progress: string[] = [];
    before(async () => {
      summary = await trainSampleModel({
        out: path.join(root, 'small'),
        products: 300,
        onProgress: (line) => progress.push(line),
      });
    });

    it('beats random retrieval by a clear margin on held-out purchases', () => {
      assert.equal(summary.randomRecallAt100, 100 / 300);
      assert.ok(
        summary.heldOutInteractions > 300,
        `only ${summary.heldOutInteractions} held-out purchases`,
      );
      assert.ok(
        summary.recallAt100 >= summary.randomRecallAt100 + 0.3,
        `recall@100 ${summary.recallAt100} vs random ${summary.randomRecallAt100}`,
      );
      assert.ok(Number.isFinite(summary.popularityRecallAt100));
      assert.ok(summary.trainSeconds < 20, `trained in ${summary.trainSeconds} s`);
      assert.ok(
        progress.some((line) => /^epoch 5\/5: loss \d/.test(line)),
        progress.join('\n'),
      );
    });

    it('writes a bundle that reads back and encodes its examples to unit-norm D-vectors', async () => {
      const bundle = await readBundle(summary.bundleDir);
      assert.equal(bundle.manifest.candidate_count, 300);
      assert.equal(bundle.manifest.embedding_dim, 64);
      assert.equal(bundle.manifest.product_id_dtype, 'int64');
      assert.equal(bundle.productIds[0], 100_001);
      assert.deepEqual(
        bundle.manifest.inputs.map((i) => i.name),
        ['customer_id', 'city', 'segment', 'revenue'],
      );
      assert.equal(bundle.manifest.metrics?.recall_at_100, summary.recallAt100);
      assert.ok(bundle.examples.length >= 5 && bundle.examples.length <= 10);
      // Candidate embeddings come from an L2-normalised tower.
      for (let row = 0; row < 300; row += 37) {
        const v = bundle.candidates.vectors.subarray(row * 64, (row + 1) * 64);
        assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-4);
      }
      const encoder = await loadQueryEncoder(bundle);
      try {
        const prepared = createPreprocessor(bundle.manifest, bundle.vocabularies).instances(
          bundle.examples,
        );
        const queries = encoder.encode(prepared);
        assert.equal(queries.length, bundle.examples.length * 64);
        for (let i = 0; i < bundle.examples.length; i++) {
          const norm = Math.hypot(...queries.subarray(i * 64, (i + 1) * 64));
          assert.ok(Math.abs(norm - 1) < 1e-5, `example ${i} has norm ${norm}`);
        }
      } finally {
        encoder.dispose();
      }
    });
  });

  it('is deterministic for a seed, and string ids are original ids', async () => {
    const run = (name: string, seed: number) =>
      trainSampleModel({
        out: path.join(root, name),
        products: 60,
        customers: 60,
        epochs: 1,
        dim: 16,
        seed,
        idType: 'string',
      });
    const [a, b, c] = [await run('a', 9), await run('b', 9), await run('c', 10)];
    const candidates = (s: SampleModelSummary) =>
      readFile(path.join(s.bundleDir, 'candidates.f32'));
    assert.deepEqual(await candidates(a), await candidates(b));
    assert.notDeepEqual(await candidates(a), await candidates(c));
    const ids = JSON.parse(
      await readFile(path.join(a.bundleDir, 'product_ids.json'), 'utf8'),
    ) as unknown[];
    assert.deepEqual(ids.slice(0, 2), ['P-000001', 'P-000002']);
  });

  describe('the CLI as a child process', () => {
    it('sample-model --json exits 0 and prints the summary as JSON on stdout', async () => {
      const out = path.join(root, 'cli');
      const { code, stdout, stderr } = await cli([
        'sample-model',
        '--out',
        out,
        '--products',
        '300',
        '--training-run-id',
        'nightly-0042',
        '--json',
      ]);
      assert.equal(code, 0, stderr);
      const summary = JSON.parse(stdout) as SampleModelSummary;
      assert.equal(summary.trainingRunId, 'nightly-0042');
      const written = JSON.parse(
        await readFile(path.join(out, 'ann', 'manifest.json'), 'utf8'),
      ) as { fingerprint?: { training_run_id?: string } };
      assert.equal(written.fingerprint?.training_run_id, 'nightly-0042');
      assert.equal(summary.bundleDir, path.join(out, 'ann'));
      assert.equal(summary.products, 300);
      assert.ok(summary.recallAt100 > summary.randomRecallAt100);
      assert.ok(summary.files.some((f) => f.path === 'candidates.f32' && f.bytes === 300 * 64 * 4));
      assert.match(stderr, /^epoch 1\/5: /m); // progress on stderr, not stdout
      await readBundle(out);
    });

    it('prints a text summary without --json', async () => {
      const { code, stdout } = await cli([
        'sample-model',
        '--out',
        path.join(root, 'text'),
        '--products',
        '50',
        '--epochs',
        '1',
      ]);
      assert.equal(code, 0);
      assert.match(stdout, /^sample model written to .*\n {2}products {5}50 \(all trained\)/);
      assert.match(stdout, /recall@100 {3}\d\.\d{3} on \d+ held-out purchases; random 1\.000/);
    });

    it('exits 2 on usage errors', async () => {
      for (const args of [
        ['sample-model', '--products', '300'],
        ['sample-model', '--out', root, '--products', 'many'],
        ['sample-model', '--out', root, '--training-run-id', 'runs/7'],
        ['no-such-command'],
        [],
      ]) {
        const { code, stderr } = await cli(args);
        assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
      }
      const { stderr } = await cli(['sample-model', '--out', root, '--id-type', 'uuid']);
      assert.match(stderr, /argument 'uuid' is invalid\. Allowed choices are int, string/);
    });

    it('exits 0 for --help and --version; 2 at once, before training, for an --out that cannot take the bundle', async () => {
      assert.equal((await cli(['--help'])).code, 0);
      assert.match((await cli(['--version'])).stdout, /^\d+\.\d+\.\d+\n$/);
      const help = await cli(['sample-model', '--help']);
      assert.match(help.stdout, /--out <dir> +\(required\) directory/);
      assert.match(help.stdout, /\nExit codes: 0 the bundle was written; 1 .*; 2 bad arguments/);
      const blocker = path.join(root, 'README.md');
      await writeFile(blocker, 'x');
      const refused = await cli(['sample-model', '--out', blocker]);
      assert.equal(refused.code, 2);
      assert.equal(refused.stdout, '');
      assert.equal(
        refused.stderr,
        `recdeploy: --out ${blocker} is a file; give a directory for the bundle\n`,
        'refused before any training progress',
      );
    });
  });
});
