import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RecdeployError } from '@recdeploy/shared';
import {
  createPreprocessor,
  loadQueryEncoder,
  loadTf,
  readBundle,
  writeBundle,
  type ModelBundle,
} from '@recdeploy/shared/ann';
import type { io } from '@tensorflow/tfjs';
import { CITIES, CUSTOMERS, validManifest } from '../support/ann/manifest-fixture.js';
import { TINY_EXAMPLES, writeTinyBundle } from '../support/ann/tiny-bundle.js';

/** The BUNDLE.INVALID error `promise` rejects with. */
async function bundleError(promise: Promise<unknown>): Promise<RecdeployError> {
  const error = await promise.then(
    () => assert.fail('expected BUNDLE.INVALID'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof RecdeployError, `expected a RecdeployError, got ${String(error)}`);
  assert.equal(error.code, 'BUNDLE.INVALID');
  assert.equal(error.retryable, false);
  return error;
}

function norms(vectors: Float32Array, dim: number): number[] {
  return Array.from({ length: vectors.length / dim }, (_, i) =>
    Math.hypot(...vectors.subarray(i * dim, (i + 1) * dim)),
  );
}

describe('model bundle: writer → reader → query encoder', function () {
  this.timeout(60_000);
  let root: string;
  let pristine: string;
  let bundle: ModelBundle;

  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'recdeploy-bundle-'));
    pristine = path.join(root, 'pristine');
    await writeTinyBundle(pristine);
    bundle = await readBundle(pristine);
  });
  after(async () => rm(root, { recursive: true, force: true }));

  it('reads back everything it wrote, from the artifact dir or from ann/ itself', async () => {
    assert.equal(bundle.dir, path.join(pristine, 'ann'));
    assert.equal(bundle.manifest.candidate_count, 20);
    assert.equal((bundle.manifest as { note?: unknown }).note, 'kept');
    assert.equal(bundle.candidates.count, 20);
    assert.equal(bundle.candidates.dim, 8);
    assert.equal(bundle.candidates.vectors.length, 160);
    assert.deepEqual(bundle.productIds.slice(0, 3), [1001, 1002, 1003]);
    assert.deepEqual(bundle.vocabularies.get('customer_id'), CUSTOMERS);
    assert.deepEqual(bundle.vocabularies.get('city'), CITIES);
    assert.deepEqual(bundle.examples, TINY_EXAMPLES);
    assert.equal(bundle.queryModelPath, path.join(pristine, 'ann', 'query_model', 'model.json'));
    const again = await readBundle(path.join(pristine, 'ann'));
    assert.deepEqual(again.candidates.vectors, bundle.candidates.vectors);
  });

  it('keeps string product ids', async () => {
    const dir = path.join(root, 'string-ids');
    await writeTinyBundle(dir, { idType: 'string' });
    const read = await readBundle(dir);
    assert.deepEqual(read.productIds.slice(0, 2), ['P-1', 'P-2']);
  });

  it('encodes examples to unit-norm embedding_dim vectors with stable memory', async () => {
    const encoder = await loadQueryEncoder(bundle);
    try {
      assert.equal(encoder.dim, 8);
      assert.match(encoder.backend, /^(wasm|cpu|tensorflow)$/);
      const prepared = createPreprocessor(bundle.manifest, bundle.vocabularies).instances(
        bundle.examples,
      );
      const first = encoder.encode(prepared);
      assert.equal(first.length, 2 * 8);
      for (const norm of norms(first, 8)) assert.ok(Math.abs(norm - 1) < 1e-5, `norm ${norm}`);
      assert.notDeepEqual(first.subarray(0, 8), first.subarray(8, 16));
      const { tf } = await loadTf();
      const before = tf.memory().numTensors;
      for (let i = 0; i < 200; i++) encoder.encode(prepared);
      assert.equal(tf.memory().numTensors, before);
      assert.deepEqual(encoder.encode(prepared), first);
      assert.equal(encoder.encode({ count: 0, columns: prepared.columns }).length, 0);
    } finally {
      encoder.dispose();
    }
  });

  it('loads a TF.js graph model (tensorflowjs_converter output) in the same slot', async () => {
    // y = x · w for one float input: the smallest converted-SavedModel shape.
    const w = new Float32Array([0.5, -1, 2, 0]);
    const placeholder = {
      dtype: { type: 'DT_FLOAT' },
      shape: { shape: { dim: [{ size: '-1' }, { size: '1' }] } },
    };
    const constant = {
      dtype: { type: 'DT_FLOAT' },
      value: {
        tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '1' }, { size: '4' }] } },
      },
    };
    const artifacts: io.ModelArtifacts = {
      format: 'graph-model',
      modelTopology: {
        node: [
          { name: 'x', op: 'Placeholder', attr: placeholder },
          { name: 'w', op: 'Const', attr: constant },
          {
            name: 'y',
            op: 'MatMul',
            input: ['x', 'w'],
            attr: { transpose_a: { b: false }, transpose_b: { b: false } },
          },
        ],
        library: {},
        versions: {},
      },
      weightSpecs: [{ name: 'w', shape: [1, 4], dtype: 'float32' }],
      weightData: w.buffer,
    };
    const manifest = validManifest({
      embedding_dim: 4,
      inputs: [{ name: 'x', dtype: 'float32', preprocessing: { kind: 'identity' } }],
    });
    const dir = path.join(root, 'graph');
    await writeBundle(dir, {
      manifest,
      candidates: { vectors: new Float32Array(20 * 4).fill(0.5), count: 20, dim: 4 },
      productIds: Array.from({ length: 20 }, (_, i) => i + 1),
      vocabularies: new Map(),
      examples: [{ x: 1 }],
      queryModel: { save: (handler) => handler.save!(artifacts) },
    });
    const read = await readBundle(dir);
    const encoder = await loadQueryEncoder(read);
    try {
      const prepared = createPreprocessor(read.manifest, read.vocabularies).instances([
        2,
        { x: -1 },
      ]);
      assert.deepEqual(Array.from(encoder.encode(prepared)), [1, -2, 4, 0, -0.5, 1, -2, 0]);
    } finally {
      encoder.dispose();
    }
  });

  describe('each corruption gets its precise error', () => {
    let n = 0;
    /** A fresh copy of the pristine bundle's ann/ directory. */
    async function copy(): Promise<string> {
      const dir = path.join(root, `case-${++n}`);
      await cp(path.join(pristine, 'ann'), dir, { recursive: true });
      return dir;
    }
    async function editJson(
      file: string,
      edit: (value: Record<string, unknown>) => unknown,
    ): Promise<void> {
      const value = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      await writeFile(file, JSON.stringify(edit(value) ?? value));
    }
    const manifestOf = (dir: string) => path.join(dir, 'manifest.json');
    type Case = [string, (dir: string) => Promise<unknown>, (dir: string) => string, RegExp];
    const cases: Case[] = [
      [
        'a missing bundle',
        async (dir) => rm(dir, { recursive: true }),
        (dir) => path.join(dir, 'ann', 'manifest.json'),
        /not found \(looked for manifest\.json/,
      ],
      [
        'a manifest that is not JSON',
        (dir) => writeFile(manifestOf(dir), '{"format_version": 1,'),
        manifestOf,
        /not valid JSON/,
      ],
      [
        'a manifest with a bad dtype',
        (dir) =>
          editJson(manifestOf(dir), (m) => {
            (m.inputs as Record<string, unknown>[])[0]!.dtype = 'int32';
          }),
        manifestOf,
        /\/inputs\/0\/dtype: expected one of 'string', 'int64', 'float32', got "int32"/,
      ],
      [
        'a vocabulary path leaving ann/',
        (dir) =>
          editJson(manifestOf(dir), (m) => {
            (
              (m.inputs as Record<string, unknown>[])[1]!.preprocessing as Record<string, unknown>
            ).vocabulary_file = '../city.txt';
          }),
        manifestOf,
        /path "\.\.\/city\.txt" must be relative and stay inside/,
      ],
      [
        'a truncated candidates.f32',
        (dir) => truncate(path.join(dir, 'candidates.f32'), 20 * 8 * 4 - 6),
        (dir) => path.join(dir, 'candidates.f32'),
        /634 bytes, expected candidate_count × embedding_dim × 4 = 20 × 8 × 4 = 640; not a whole number of rows \(truncated\?\)/,
      ],
      [
        'a candidate_count that disagrees with candidates.f32',
        (dir) =>
          editJson(manifestOf(dir), (m) => {
            m.candidate_count = 21;
          }),
        (dir) => path.join(dir, 'candidates.f32'),
        /640 bytes, expected .* = 672; it holds 20 rows/,
      ],
      [
        'a NaN candidate',
        async (dir) => {
          const file = path.join(dir, 'candidates.f32');
          const bytes = await readFile(file);
          bytes.writeFloatLE(NaN, (3 * 8 + 2) * 4);
          await writeFile(file, bytes);
        },
        (dir) => path.join(dir, 'candidates.f32'),
        /row 3 column 2 is NaN \(values must be finite\)/,
      ],
      [
        'one product id too few',
        (dir) =>
          editJson(path.join(dir, 'product_ids.json'), (ids) =>
            (ids as unknown as number[]).slice(1),
          ),
        (dir) => path.join(dir, 'product_ids.json'),
        /holds 19 ids, expected candidate_count = 20/,
      ],
      [
        'a repeated product id',
        (dir) =>
          editJson(path.join(dir, 'product_ids.json'), (ids) => {
            (ids as unknown as number[])[5] = 1001;
          }),
        (dir) => path.join(dir, 'product_ids.json'),
        /id 1001 appears at indices 0 and 5/,
      ],
      [
        'a string id in an int64 bundle',
        (dir) =>
          editJson(path.join(dir, 'product_ids.json'), (ids) => {
            (ids as unknown as unknown[])[2] = '1003';
          }),
        (dir) => path.join(dir, 'product_ids.json'),
        /id at index 2: expected an integer \(product_id_dtype "int64"\), got "1003"/,
      ],
      [
        'an int64 id beyond 2^53',
        (dir) =>
          writeFile(
            path.join(dir, 'product_ids.json'),
            `[${Array.from({ length: 19 }, (_, i) => i).join(',')},9007199254740993]`,
          ),
        (dir) => path.join(dir, 'product_ids.json'),
        /id at index 19: 9007199254740992 is beyond ±\(2\^53 − 1\)/,
      ],
      [
        'a missing vocabulary',
        (dir) => unlink(path.join(dir, 'vocab', 'city.txt')),
        (dir) => path.join(dir, 'vocab', 'city.txt'),
        /vocabulary of input "city" cannot be read \(missing\?\)/,
      ],
      [
        'an empty vocabulary',
        (dir) => writeFile(path.join(dir, 'vocab', 'city.txt'), ''),
        (dir) => path.join(dir, 'vocab', 'city.txt'),
        /vocabulary of input "city" is empty/,
      ],
      [
        'a repeated vocabulary token',
        (dir) => writeFile(path.join(dir, 'vocab', 'city.txt'), 'Warsaw\nGdansk\nWarsaw\n'),
        (dir) => path.join(dir, 'vocab', 'city.txt'),
        /token "Warsaw" appears on lines 1 and 3/,
      ],
      [
        'examples that are not a list',
        (dir) => writeFile(path.join(dir, 'examples.json'), '{}'),
        (dir) => path.join(dir, 'examples.json'),
        /expected a non-empty array of instances, got \{\}/,
      ],
      [
        'an example missing an input',
        (dir) =>
          editJson(path.join(dir, 'examples.json'), () => [{ customer_id: 'C1', city: 'Warsaw' }]),
        (dir) => path.join(dir, 'examples.json'),
        /instance 0 does not fit the manifest inputs: .*missing: revenue/,
      ],
      [
        'a missing query model',
        (dir) => rm(path.join(dir, 'query_model', 'model.json')),
        (dir) => path.join(dir, 'query_model', 'model.json'),
        /cannot be read \(missing query model\?\)/,
      ],
      [
        'a missing weight shard',
        (dir) => rm(path.join(dir, 'query_model', 'group1-shard1of1.bin')),
        (dir) => path.join(dir, 'query_model', 'model.json'),
        /weight file group1-shard1of1\.bin is missing/,
      ],
    ];
    for (const [name, corrupt, file, expected] of cases) {
      it(`${name}`, async () => {
        const dir = await copy();
        await corrupt(dir);
        const error = await bundleError(readBundle(dir));
        assert.ok(
          error.message.startsWith(`${file(dir)}: `),
          `message names the file: ${error.message}`,
        );
        assert.match(error.message, expected);
        assert.equal(error.metadata.file, file(dir));
      });
    }

    it('a query model whose output is not embedding_dim wide', async () => {
      const dir = path.join(root, 'wrong-dim');
      await writeTinyBundle(dir, { dim: 8, modelDim: 6 });
      const read = await readBundle(dir); // the cheap checks pass: only running the model tells
      const error = await bundleError(loadQueryEncoder(read));
      assert.match(
        error.message,
        /query_model\/model\.json: query model fails on the first example: output shape \[1, 6\], expected \[1, 8\] \(embedding_dim 8\)/,
      );
    });

    it('a query model TF.js cannot load', async () => {
      const dir = await copy();
      await editJson(path.join(dir, 'query_model', 'model.json'), (m) => {
        m.modelTopology = { class_name: 'NoSuchModel', config: {} };
      });
      const error = await bundleError(loadQueryEncoder(await readBundle(dir)));
      assert.match(error.message, /model\.json: TF\.js cannot load the query model: /);
    });

    it('a weight file path escaping the model directory', async () => {
      const dir = await copy();
      await editJson(path.join(dir, 'query_model', 'model.json'), (m) => {
        (m.weightsManifest as { paths: string[] }[])[0]!.paths = ['../../../etc/passwd'];
      });
      const error = await bundleError(readBundle(dir));
      assert.match(
        error.message,
        /model\.json: path "\.\.\/\.\.\/\.\.\/etc\/passwd" must be relative and stay inside/,
      );
    });
  });
});
