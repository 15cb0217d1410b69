import assert from 'node:assert/strict';
import {
  formatReplaySample,
  parseReplaySample,
  type ReplaySample,
} from '../../../shared/ann/bundle/replay-sample.js';
import { ReplaySampler } from '../../../services/ann-serving/src/replay/replay-sampler.js';

const NOW = new Date('2026-12-06T22:00:00.000Z');

function sampler(capacity = 10, trainingRunId?: string): ReplaySampler {
  return new ReplaySampler({ capacity, modelName: 'recommender', trainingRunId, now: () => NOW });
}

describe('replay sampler', () => {
  it('keeps answered instances as row-format JSON: numbers, strings, booleans, bytes as b64', () => {
    const replay = sampler(10, 'train-7');
    const bytes = new Uint8Array([0xff, 0x00, 0x80]);
    replay.record([{ user_id: 42, country: 'de', age: 31.5, member: true, blob: bytes }], {
      authorization: 'Bearer secret',
    });
    const sample = replay.snapshot();
    assert.deepEqual(sample, {
      format_version: 1,
      model_name: 'recommender',
      training_run_id: 'train-7',
      written_at: NOW.toISOString(),
      sampling_since: NOW.toISOString(),
      seen: 1,
      capacity: 10,
      instances: [{ user_id: 42, country: 'de', age: 31.5, member: true, blob: { b64: '/wCA' } }],
    });
    assert.ok(!formatReplaySample(sample).includes('secret'), 'no header is stored');
  });

  it('leaves out requests with the verification header (any value), and what JSON cannot hold', () => {
    const replay = sampler();
    replay.record([{ user_id: 1 }], { 'x-recdeploy-verification': '' });
    replay.record([{ user_id: 2 }], { 'x-recdeploy-verification': ['a', 'b'] });
    replay.record([{ age: NaN }, { age: Infinity }, { user_id: 2n ** 60n }], {});
    assert.equal(replay.snapshot().seen, 0);
    assert.equal(replay.size, 0);
    replay.record([{ user_id: 3 }], {});
    assert.deepEqual(replay.snapshot().instances, [{ user_id: 3 }]);
  });

  it('omits training_run_id when unknown; restores instances, count and start from a file', () => {
    const replay = sampler(3);
    replay.restore({
      format_version: 1,
      model_name: 'recommender',
      written_at: '2026-12-06T21:00:00.000Z',
      sampling_since: '2026-12-01T00:00:00.000Z',
      seen: 70,
      capacity: 3,
      instances: [{ user_id: 1 }, { user_id: 2 }],
    });
    const text = formatReplaySample(replay.snapshot());
    assert.equal(
      text,
      '{"format_version":1,"model_name":"recommender","written_at":"2026-12-06T22:00:00.000Z","sampling_since":"2026-12-01T00:00:00.000Z","seen":70,"capacity":3,"instances":[{"user_id":1},{"user_id":2}]}',
    );
  });
});

describe('replay sample file (the contract with verify)', () => {
  const valid: ReplaySample = {
    format_version: 1,
    model_name: 'recommender',
    training_run_id: 'train-7',
    written_at: NOW.toISOString(),
    sampling_since: NOW.toISOString(),
    seen: 5,
    capacity: 2,
    instances: [{ user_id: 1, blob: { b64: 'AAE=' } }, { country: 'de' }],
  };

  it('reads what the writer writes', () => {
    const parsed = parseReplaySample(formatReplaySample(valid));
    assert.ok('sample' in parsed);
    assert.deepEqual(parsed.sample, valid);
  });

  it('says why a file is not a sample, naming paths but never values', () => {
    const problems = [
      'user_id=secret-customer',
      JSON.stringify({ ...valid, format_version: 2 }),
      JSON.stringify({ ...valid, instances: [{ email: ['secret-customer'] }] }),
      JSON.stringify({ ...valid, instances: [{ a: 1 }, { a: 2 }, { a: 3 }] }),
      JSON.stringify({ ...valid, seen: 1 }),
      JSON.stringify({ ...valid, seen: -1 }),
    ].map((text) => {
      const parsed = parseReplaySample(text);
      assert.ok('problem' in parsed, text);
      return parsed.problem;
    });
    assert.match(problems[0]!, /not valid JSON/);
    assert.match(problems[1]!, /^\/format_version/);
    assert.match(problems[2]!, /^\/instances\/0\/email/);
    assert.match(problems[3]!, /more than its capacity 2/);
    assert.match(problems[4]!, /only 1 were seen/);
    assert.match(problems[5]!, /^\/seen/);
    for (const problem of problems) assert.ok(!problem.includes('secret'), problem);
  });
});
