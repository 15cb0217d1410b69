import assert from 'node:assert/strict';
import { parseServingJson } from '../../../shared/verification/index.js';
import { parsePredictions } from '../../../shared/verification/predict-response.js';

describe('verification: reading TF Serving answers', () => {
  it('reads bare NaN/Infinity tokens as strings, leaving strings and plain JSON alone', () => {
    assert.deepEqual(parseServingJson('{"scores":[NaN, Infinity,-Infinity,1.5]}'), {
      scores: ['NaN', 'Infinity', '-Infinity', 1.5],
    });
    assert.deepEqual(parseServingJson('{"ids":["NaN \\" Infinity","x"]}'), {
      ids: ['NaN " Infinity', 'x'],
    });
    assert.deepEqual(parseServingJson('[1,2]'), [1, 2]);
  });

  it('still refuses text that is not JSON', () => {
    assert.throws(() => parseServingJson('<html>502</html>'), SyntaxError);
    assert.throws(() => parseServingJson('{"a":Nan}'), SyntaxError);
  });

  it('parses row-format predictions into one ranked list per instance', () => {
    const body =
      '{"predictions":[{"product_ids":[3,1],"scores":[0.5,NaN]},{"product_ids":[],"scores":[]}]}';
    assert.deepEqual(parsePredictions(body, 2), {
      lists: [
        { productIds: [3, 1], scores: [0.5, 'NaN'] },
        { productIds: [], scores: [] },
      ],
    });
  });

  it('says what is wrong with an answer of another shape', () => {
    assert.deepEqual(parsePredictions('{"predictions":[{"product_ids":[1],"scores":[1]}]}', 2), {
      problem: '1 predictions for 2 instances',
    });
    assert.deepEqual(parsePredictions('{"outputs":{}}', 1), {
      problem: 'the answer has no "predictions" array: {"outputs":{}}',
    });
    assert.deepEqual(parsePredictions('{"predictions":[[1,2]]}', 1), {
      problem: 'prediction 0 is not {"product_ids": [...], "scores": [...]}: [1,2]',
    });
    const notJson = parsePredictions('oops', 1);
    assert.ok('problem' in notJson && notJson.problem.startsWith('the answer is not JSON ('));
  });
});
