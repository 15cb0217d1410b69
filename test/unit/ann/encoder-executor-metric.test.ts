import assert from 'node:assert/strict';
import { ServingMetrics } from '../../../services/ann-serving/src/metrics/serving-metrics.js';
import { FakeServingModel } from '../../support/ann-serving/fake-serving-model.js';

describe('ann_serving_encoder_executor gauge', () => {
  it('exports the executor when the model reports one', async () => {
    const metrics = new ServingMetrics();
    const model = Object.assign(new FakeServingModel(), { encoderExecutor: 'fast-path' });
    metrics.modelLoaded(model);
    const { body } = await metrics.render();
    assert.match(body, /^ann_serving_encoder_executor\{executor="fast-path"\} 1$/m);
    assert.match(body, /^ann_serving_encoder_backend\{backend="fake"\} 1$/m);
  });

  it('exports tfjs for a model whose query tower runs on TF.js', async () => {
    const metrics = new ServingMetrics();
    metrics.modelLoaded(new FakeServingModel());
    const { body } = await metrics.render();
    assert.match(body, /^ann_serving_encoder_executor\{executor="tfjs"\} 1$/m);
    assert.doesNotMatch(body, /executor="fast-path"/);
  });
});
