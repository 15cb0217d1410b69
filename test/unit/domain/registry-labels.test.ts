import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  MAX_LABELS,
  encodeMetricValue,
  labelFilter,
  planRegistryLabels,
  registryLabels,
  sanitizeLabelKey,
  sanitizeLabelValue,
  type RegistryLabelInput,
} from '../../../shared/domain/registry-labels.js';

const input: RegistryLabelInput = {
  runId: 'ep-1-run-42',
  trainingRunId: 'run-42',
  modelEndpointId: 'ep-1',
  modelType: 'retrieval',
  retrievalAlgorithm: 'hnsw',
  isBlessed: true,
  runNumber: 1768842986,
  metrics: { recall_at_100: 0.97312, loss: -0.5 },
  runtime: 'ann-serving',
};

const KEY = /^[a-z][a-z0-9_-]{0,62}$/;
const VALUE = /^[a-z0-9_-]{0,63}$/;

function sha8(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 8);
}

describe('registry labels', () => {
  it('gives the fixed labels plus one per metric, exactly', () => {
    assert.deepEqual(registryLabels(input), {
      training_run_id: 'run-42',
      model_endpoint_id: 'ep-1',
      model_type: 'retrieval',
      retrieval_algorithm: 'hnsw',
      is_blessed: 'true',
      run_number: '1768842986',
      runtime: 'ann-serving',
      managed_by: 'recdeploy',
      recall_at_100: '0_9731',
      loss: 'm0_5',
    });
  });

  it('writes is_blessed as "false" for an unblessed run', () => {
    assert.equal(registryLabels({ ...input, isBlessed: false }).is_blessed, 'false');
  });

  it('sanitises id values: lowercase, other characters to "_"', () => {
    const labels = registryLabels({
      ...input,
      trainingRunId: 'Run.42:A',
      modelEndpointId: 'EP/Home Page',
    });
    assert.equal(labels.training_run_id, 'run_42_a');
    assert.equal(labels.model_endpoint_id, 'ep_home_page');
  });

  describe('metric values', () => {
    const cases: [number, string][] = [
      [0.97312, '0_9731'],
      [0.97316, '0_9732'],
      [-0.5, 'm0_5'],
      [100, '100'],
      [0, '0'],
      [-0.00001, '0'],
      [0.00005, '0_0001'],
      [1e21, '1e21'],
      [-12.3456789, 'm12_3457'],
      [Number.NaN, 'nan'],
      [Number.POSITIVE_INFINITY, 'inf'],
      [Number.NEGATIVE_INFINITY, 'minf'],
    ];
    for (const [value, expected] of cases) {
      it(`${value} → ${expected}`, () => assert.equal(encodeMetricValue(value), expected));
    }

    it('always fit the value rules', () => {
      fc.assert(fc.property(fc.double(), (v) => VALUE.test(encodeMetricValue(v))));
    });
  });

  describe('sanitizeLabelKey', () => {
    it('lowercases and replaces other characters', () => {
      assert.equal(sanitizeLabelKey('Recall@100'), 'recall_100');
      assert.equal(sanitizeLabelKey('ndcg/top-10'), 'ndcg_top-10');
    });

    it('prefixes keys that do not start with a lowercase letter', () => {
      assert.equal(sanitizeLabelKey('100_recall'), 'k_100_recall');
      assert.equal(sanitizeLabelKey('_loss'), 'k__loss');
      assert.equal(sanitizeLabelKey(''), 'k_');
    });

    it('always gives a valid key', () => {
      fc.assert(fc.property(fc.string({ maxLength: 200 }), (k) => KEY.test(sanitizeLabelKey(k))));
    });
  });

  describe('long values', () => {
    it('keeps 63 characters as they are', () => {
      const exact = 'a'.repeat(63);
      assert.equal(sanitizeLabelValue(exact), exact);
    });

    it('cuts past 63 to 54 characters, "-" and 8 hex of the sha256 of the original', () => {
      const original = `Training-Run-${'x'.repeat(60)}`;
      const value = sanitizeLabelValue(original);
      assert.equal(value.length, 63);
      assert.equal(value, `${original.toLowerCase().slice(0, 54)}-${sha8(original)}`);
    });

    it('two long ids with one prefix never collide', () => {
      const prefix = 'p'.repeat(70);
      assert.notEqual(sanitizeLabelValue(`${prefix}-a`), sanitizeLabelValue(`${prefix}-b`));
    });

    it('long keys are cut the same way and stay valid keys', () => {
      const key = sanitizeLabelKey(`Metric_${'m'.repeat(80)}`);
      assert.equal(key.length, 63);
      assert.match(key, KEY);
      assert.ok(key.endsWith(`-${sha8(`Metric_${'m'.repeat(80)}`)}`));
    });

    it('always gives a valid value', () => {
      fc.assert(
        fc.property(fc.string({ maxLength: 200 }), (v) => VALUE.test(sanitizeLabelValue(v))),
      );
    });
  });

  describe('the 64-label limit', () => {
    const manyMetrics = Object.fromEntries(
      Array.from({ length: 60 }, (_, i) => [`m${String(i).padStart(2, '0')}`, i]),
    );

    it('keeps 56 metrics in name order and reports the rest as dropped', () => {
      const plan = planRegistryLabels({ ...input, metrics: manyMetrics });
      assert.equal(Object.keys(plan.labels).length, MAX_LABELS);
      assert.equal(plan.labels.m55, '55');
      assert.equal(plan.labels.m56, undefined);
      assert.deepEqual(plan.droppedMetrics, ['m56', 'm57', 'm58', 'm59']);
    });

    it('does not depend on the order the metrics were given in', () => {
      const reversed = Object.fromEntries(Object.entries(manyMetrics).reverse());
      assert.deepEqual(
        planRegistryLabels({ ...input, metrics: reversed }),
        planRegistryLabels({ ...input, metrics: manyMetrics }),
      );
    });

    it('never lets a metric overwrite a fixed label or an earlier metric', () => {
      const plan = planRegistryLabels({
        ...input,
        metrics: { model_type: 1, recall_100: 0.5, 'Recall@100': 0.9 },
      });
      assert.equal(plan.labels.model_type, 'retrieval');
      // 'R' sorts before 'r': Recall@100 takes recall_100, the later name is dropped.
      assert.equal(plan.labels.recall_100, '0_9');
      assert.deepEqual(plan.droppedMetrics, ['model_type', 'recall_100']);
    });

    it('reports nothing dropped when everything fits', () => {
      assert.deepEqual(planRegistryLabels(input).droppedMetrics, []);
    });
  });

  it('labelFilter writes a ListModels label filter', () => {
    assert.equal(labelFilter('training_run_id', 'run-42'), 'labels.training_run_id="run-42"');
  });
});
