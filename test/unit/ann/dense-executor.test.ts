import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs';
import {
  createPreprocessor,
  FAST_PATH_MAX_BATCH,
  loadQueryEncoder,
  loadTf,
  readBundle,
  type ModelBundle,
  type PreparedInputs,
  type PreparedColumn,
  type Tf,
} from '@recdeploy/shared/ann';
import { RecordingLogger } from '@recdeploy/shared';
import {
  compileDenseExecutor,
  type DenseExecutor,
  type FeedSpec,
} from '../../../shared/ann/encoder/dense-executor.js';
import { chooseFastPath } from '../../../shared/ann/encoder/fast-path.js';
import type { ModelRunner } from '../../../shared/ann/encoder/model-runner.js';
import { buildTwoTower } from '../../../shared/ann/sample/two-tower-model.js';
import { writeTinyBundle } from '../../support/ann/tiny-bundle.js';

const SIZES = { customerIds: 50, cities: 7, segments: 4, products: 30, categories: 5, tiers: 3 };
const QUERY_FEEDS: FeedSpec[] = [
  { name: 'customer_id', dtype: 'int32' },
  { name: 'city', dtype: 'int32' },
  { name: 'segment', dtype: 'int32' },
  { name: 'revenue', dtype: 'float32' },
];

function ints(name: string, values: number[]): PreparedColumn {
  return { name, dtype: 'int32', values: Int32Array.from(values) };
}
function floats(name: string, values: number[]): PreparedColumn {
  return { name, dtype: 'float32', values: Float32Array.from(values) };
}

/** The model's output for `columns` through TF.js (as the encoder feeds it: [count, 1] each). */
function viaTfjs(tf: Tf, model: LayersModel, columns: readonly PreparedColumn[]): Float32Array {
  return tf.tidy(() => {
    const feeds = columns.map((c) => tf.tensor(c.values, [c.values.length, 1], c.dtype));
    return (model.apply(feeds) as ReturnType<typeof tf.tensor>).dataSync() as Float32Array;
  });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  return a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
}

function compiled(model: LayersModel, feeds: readonly FeedSpec[]): DenseExecutor {
  const result = compileDenseExecutor(model, model.toJSON(null, false), feeds);
  if ('unsupported' in result) assert.fail(`unsupported: ${result.unsupported}`);
  return result.executor;
}

function unsupported(model: LayersModel, feeds: readonly FeedSpec[]): string {
  const result = compileDenseExecutor(model, model.toJSON(null, false), feeds);
  assert.ok('unsupported' in result, 'expected the model to be refused');
  return result.unsupported;
}

describe('dense executor (typed-array query tower)', () => {
  let tf: Tf;
  let query: LayersModel;
  const disposables: LayersModel[] = [];

  before(async () => {
    ({ tf } = await loadTf());
    const towers = buildTwoTower(tf, SIZES, 16, 11);
    towers.candidate.dispose();
    query = towers.query;
    disposables.push(query);
  });
  after(() => disposables.forEach((m) => m.dispose()));

  /** A one-input model: int ids → Embedding(mask/length options) → Flatten → Dense(activation). */
  function small(
    options: { maskZero?: boolean; activation?: 'elu' | 'tanh' | 'sigmoid'; share?: boolean } = {},
  ): LayersModel {
    const input = tf.input({ shape: [1], dtype: 'int32', name: 'id' });
    const embedded = tf.layers.flatten().apply(
      tf.layers
        .embedding({
          inputDim: 5,
          outputDim: 3,
          maskZero: options.maskZero ?? false,
          embeddingsInitializer: tf.initializers.randomUniform({ minval: -1, maxval: 1, seed: 1 }),
        })
        .apply(input),
    ) as SymbolicTensor;
    const dense = tf.layers.dense({
      units: 3,
      activation: options.activation ?? 'tanh',
      kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      biasInitializer: tf.initializers.constant({ value: 0.1 }),
    });
    let out = dense.apply(embedded) as SymbolicTensor;
    if (options.share) out = dense.apply(out) as SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    disposables.push(model);
    return model;
  }

  it('reproduces TF.js on the sample two-tower query model, batch 1 and 16', () => {
    const executor = compiled(query, QUERY_FEEDS);
    assert.equal(executor.outputDim, 16);
    for (const count of [1, 16]) {
      const row = (f: (i: number) => number) => Array.from({ length: count }, (_, i) => f(i));
      const columns = [
        ints(
          'customer_id',
          row((i) => (i * 7) % SIZES.customerIds),
        ),
        ints(
          'city',
          row((i) => i % SIZES.cities),
        ),
        ints(
          'segment',
          row((i) => (i * 3) % SIZES.segments),
        ),
        floats(
          'revenue',
          row((i) => (i - 8) / 3),
        ),
      ];
      const fast = executor.run(columns, count);
      assert.ok(fast);
      assert.equal(fast.length, count * 16);
      assert.ok(maxAbsDiff(fast, viaTfjs(tf, query, columns)) <= 1e-5);
      const firstNorm = Math.hypot(...fast.subarray(0, 16));
      assert.ok(Math.abs(firstNorm - 1) < 1e-5, `norm ${firstNorm}`);
    }
  });

  it('reproduces tanh and sigmoid Dense layers', () => {
    for (const activation of ['tanh', 'sigmoid'] as const) {
      const model = small({ activation });
      const columns = [ints('id', [0, 1, 2, 3, 4])];
      const fast = compiled(model, [{ name: 'id', dtype: 'int32' }]).run(columns, 5);
      assert.ok(fast);
      assert.ok(maxAbsDiff(fast, viaTfjs(tf, model, columns)) <= 1e-6, activation);
    }
  });

  it('leaves a batch to TF.js when an id is out of range or a float is not finite', () => {
    const executor = compiled(query, QUERY_FEEDS);
    const base = [ints('customer_id', [1]), ints('city', [1]), ints('segment', [1])];
    assert.ok(executor.run([...base, floats('revenue', [0.5])], 1));
    assert.equal(executor.run([...base, floats('revenue', [Number.NaN])], 1), undefined);
    assert.equal(executor.run([...base, floats('revenue', [Infinity])], 1), undefined);
    const outOfRange = [ints('customer_id', [SIZES.customerIds]), ...base.slice(1)];
    assert.equal(executor.run([...outOfRange, floats('revenue', [0])], 1), undefined);
    const negative = [ints('customer_id', [-1]), ...base.slice(1)];
    assert.equal(executor.run([...negative, floats('revenue', [0])], 1), undefined);
  });

  it('refuses Embedding with mask_zero, unknown activations and shared layers', () => {
    const feeds: FeedSpec[] = [{ name: 'id', dtype: 'int32' }];
    assert.match(unsupported(small({ maskZero: true }), feeds), /Embedding .*: mask_zero$/);
    assert.match(unsupported(small({ activation: 'elu' }), feeds), /: activation "elu"$/);
    assert.match(
      unsupported(small({ share: true }), feeds),
      /output_layers\[0\]: \["dense_Dense\d+",1,0\]$/,
    );
  });

  it('refuses unknown layers and inputs that do not match the feeds', () => {
    const input = tf.input({ shape: [4], name: 'x' });
    const model = tf.model({
      inputs: input,
      outputs: tf.layers.batchNormalization().apply(input) as SymbolicTensor,
    });
    disposables.push(model);
    assert.match(
      unsupported(model, [{ name: 'x', dtype: 'float32' }]),
      /InputLayer x: shape \[4\], not one value per instance/,
    );
    const scalar = tf.input({ shape: [1], name: 'y' });
    const normalised = tf.model({
      inputs: scalar,
      outputs: tf.layers.batchNormalization().apply(scalar) as SymbolicTensor,
    });
    disposables.push(normalised);
    assert.match(
      unsupported(normalised, [{ name: 'y', dtype: 'float32' }]),
      /of class BatchNormalization$/,
    );
    assert.match(unsupported(query, QUERY_FEEDS.slice(0, 3)), /^InputLayer revenue is not fed$/);
    const sequential = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [1] })] });
    disposables.push(sequential);
    assert.match(unsupported(sequential, [{ name: 'x', dtype: 'float32' }]), /Sequential/);
  });

  it('self-check: refuses the fast path when it differs from TF.js or the model is a GraphModel', () => {
    const runner: ModelRunner = {
      inputs: QUERY_FEEDS.map((f) => ({ ...f, rank: 2 as const })),
      layersModel: query,
      run: () => assert.fail('not called'),
      dispose: () => undefined,
    };
    const examples = {
      count: 2,
      columns: [
        ints('customer_id', [3, 4]),
        ints('city', [1, 2]),
        ints('segment', [0, 1]),
        floats('revenue', [0.2, -1]),
      ],
    };
    const exact = (p: PreparedInputs) => viaTfjs(tf, query, p.columns);
    const topology = { modelTopology: query.toJSON(null, false) };
    const ok = chooseFastPath(runner, topology, 16, examples, exact);
    assert.ok(ok.executor);
    const off = (p: PreparedInputs) => exact(p).map((x, i) => (i === 5 ? x + 2e-4 : x));
    const refused = chooseFastPath(runner, topology, 16, examples, off);
    assert.equal(refused.executor, undefined);
    assert.match(
      'reason' in refused ? refused.reason : '',
      /^differs from TF.js on the examples: max abs difference 0\.000(19|20)\d* > 0\.0001$/,
    );
    const wrongDim = chooseFastPath(runner, topology, 8, examples, exact);
    assert.equal(
      'reason' in wrongDim && wrongDim.reason,
      'the model outputs 16 values, embedding_dim is 8',
    );
    const graph = chooseFastPath(
      { ...runner, layersModel: undefined },
      topology,
      16,
      examples,
      exact,
    );
    assert.equal('reason' in graph && graph.reason, 'the query model is a GraphModel');
  });

  describe('through loadQueryEncoder on a tiny bundle', () => {
    let dir: string;
    let bundle: ModelBundle;
    before(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'dense-executor-'));
      bundle = await readBundle(await writeTinyBundle(dir));
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('chooses the fast path, logs it, and encodes as the TF.js encoder does', async () => {
      const logger = new RecordingLogger();
      const fast = await loadQueryEncoder(bundle, { logger });
      const slow = await loadQueryEncoder(bundle, { fastPath: false });
      try {
        assert.equal(fast.executor, 'fast-path');
        assert.equal(fast.fallbackReason, undefined);
        assert.equal(slow.executor, 'tfjs');
        assert.equal(slow.fallbackReason, 'fast path disabled by the caller');
        const line = logger.lines.find((r) => r.message === 'query encoder executor');
        assert.equal(line?.meta.encoder, 'fast-path');
        assert.equal(typeof line?.meta.maxAbsDiff, 'number');
        const prepared = createPreprocessor(bundle.manifest, bundle.vocabularies).instances([
          ...bundle.examples,
          { customer_id: 'C2', city: 'Krakow', revenue: 0 },
        ]);
        assert.ok(maxAbsDiff(fast.encode(prepared), slow.encode(prepared)) <= 1e-5);
        assert.equal(fast.encode({ count: 0, columns: [] }).length, 0);
        // Past FAST_PATH_MAX_BATCH instances TF.js is faster: the same TF.js answer, bit for bit.
        const big = createPreprocessor(bundle.manifest, bundle.vocabularies).instances(
          Array.from({ length: FAST_PATH_MAX_BATCH + 1 }, (_, i) => bundle.examples[i % 2]),
        );
        assert.deepEqual(fast.encode(big), slow.encode(big));
      } finally {
        fast.dispose();
        slow.dispose();
      }
    });

    it('answers non-finite floats through TF.js, as before', async () => {
      const fast = await loadQueryEncoder(bundle);
      const slow = await loadQueryEncoder(bundle, { fastPath: false });
      try {
        const prepared = {
          count: 1,
          columns: [ints('customer_id', [1]), ints('city', [1]), floats('revenue', [Number.NaN])],
        };
        assert.deepEqual(fast.encode(prepared), slow.encode(prepared));
      } finally {
        fast.dispose();
        slow.dispose();
      }
    });
  });
});
