import assert from 'node:assert/strict';
import { bundleManifestProblem } from '@recdeploy/shared/ann';
import { jsonCopy, validManifest } from '../../support/ann/manifest-fixture.js';

type Corruption = (m: Record<string, unknown> & { inputs: Record<string, unknown>[] }) => void;

function problemAfter(corrupt: Corruption): string | undefined {
  const manifest = jsonCopy(validManifest()) as Record<string, unknown> & {
    inputs: Record<string, unknown>[];
  };
  corrupt(manifest);
  return bundleManifestProblem(manifest);
}

const pre = (m: { inputs: Record<string, unknown>[] }, i: number) =>
  m.inputs[i]!.preprocessing as Record<string, unknown>;

describe('bundle manifest', () => {
  it('accepts a valid manifest, keeping unknown fields', () => {
    const manifest = { ...validManifest(), trained_by: 'tfx', metrics: { auc: 0.8 } };
    assert.equal(bundleManifestProblem(manifest), undefined);
  });

  it('accepts every preprocessing kind with a matching dtype', () => {
    const manifest = validManifest({
      inputs: [
        {
          name: 'store',
          dtype: 'int64',
          preprocessing: { kind: 'vocabulary', vocabulary_file: 's.txt', num_oov_buckets: 1 },
        },
        { name: 'age', dtype: 'int64', preprocessing: { kind: 'z_score', mean: 40, std: 12 } },
        { name: 'score', dtype: 'float32', preprocessing: { kind: 'identity' } },
        { name: 'rank', dtype: 'int64', preprocessing: { kind: 'identity' } },
      ],
    });
    assert.equal(bundleManifestProblem(manifest), undefined);
  });

  const cases: ReadonlyArray<[string, Corruption, RegExp]> = [
    ['not an object', (m) => Object.assign(m, { inputs: 'x' }), /^\/inputs: /],
    [
      'an unsupported format_version',
      (m) => (m.format_version = 2),
      /^\/format_version: expected 1, got 2/,
    ],
    [
      'a metric other than dot',
      (m) => (m.metric = 'cosine'),
      /^\/metric: expected "dot", got "cosine"/,
    ],
    [
      'an unknown model_type',
      (m) => (m.model_type = 'ranker'),
      /^\/model_type: expected one of 'retrieval', 'ranking', 'multitask', got "ranker"/,
    ],
    ['a missing embedding_dim', (m) => delete m.embedding_dim, /^\/embedding_dim: is required/],
    [
      'a fractional embedding_dim',
      (m) => (m.embedding_dim = 6.5),
      /^\/embedding_dim: .*integer.*got 6.5/,
    ],
    ['no inputs', (m) => (m.inputs = []), /^\/inputs: .*got \[\]/],
    [
      'an unknown input dtype',
      (m) => (m.inputs[0]!.dtype = 'int32'),
      /^\/inputs\/0\/dtype: expected one of 'string', 'int64', 'float32', got "int32"/,
    ],
    [
      'an unknown preprocessing kind',
      (m) => (pre(m, 0).kind = 'bucketize'),
      /^\/inputs\/0\/preprocessing\/kind: expected one of 'vocabulary', 'z_score', 'identity'/,
    ],
    [
      'a vocabulary without its file',
      (m) => delete pre(m, 0).vocabulary_file,
      /^\/inputs\/0\/preprocessing\/vocabulary_file: is required/,
    ],
    [
      'negative OOV buckets',
      (m) => (pre(m, 0).num_oov_buckets = -1),
      /^\/inputs\/0\/preprocessing\/num_oov_buckets: /,
    ],
    ['std zero', (m) => (pre(m, 2).std = 0), /^\/inputs\/2\/preprocessing\/std: /],
    ['std negative', (m) => (pre(m, 2).std = -1), /^\/inputs\/2\/preprocessing\/std: /],
    ['std missing', (m) => delete pre(m, 2).std, /^\/inputs\/2\/preprocessing\/std: is required/],
    [
      'a vocabulary on a float input',
      (m) =>
        (m.inputs[2] = {
          name: 'revenue',
          dtype: 'float32',
          preprocessing: { kind: 'vocabulary', vocabulary_file: 'r.txt', num_oov_buckets: 0 },
        }),
      /^\/inputs\/2: a vocabulary applies to string or int64 inputs/,
    ],
    [
      'a z-score on a string input',
      (m) =>
        (m.inputs[1] = {
          name: 'city',
          dtype: 'string',
          preprocessing: { kind: 'z_score', mean: 0, std: 1 },
        }),
      /^\/inputs\/1: z_score applies to numeric inputs/,
    ],
    [
      'a string input without vocabulary',
      (m) => (m.inputs[1] = { name: 'city', dtype: 'string', preprocessing: { kind: 'identity' } }),
      /^\/inputs\/1: a string input needs vocabulary preprocessing \("city"\)/,
    ],
    [
      'two inputs with one name',
      (m) => (m.inputs[1]!.name = 'customer_id'),
      /^\/inputs: input name "customer_id" appears twice/,
    ],
    [
      'an unknown product_id_dtype',
      (m) => (m.product_id_dtype = 'uuid'),
      /^\/product_id_dtype: expected one of 'string', 'int64'/,
    ],
    [
      'default_k above candidate_count',
      (m) => (m.default_k = 21),
      /^\/default_k: 21 exceeds candidate_count 20/,
    ],
    ['max_k below default_k', (m) => (m.max_k = 4), /^\/max_k: 4 is below default_k 5/],
    ['a zero candidate_count', (m) => (m.candidate_count = 0), /^\/candidate_count: /],
  ];
  for (const [name, corrupt, expected] of cases) {
    it(`refuses ${name}, naming the path`, () => {
      const problem = problemAfter(corrupt);
      assert.ok(problem, 'expected a problem');
      assert.match(problem, expected);
    });
  }

  it('refuses a non-object manifest', () => {
    assert.match(bundleManifestProblem([1, 2]) ?? '', /^\/: /);
    assert.match(bundleManifestProblem(null) ?? '', /^\/: /);
  });
});
