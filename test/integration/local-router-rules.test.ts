/**
 * The local router's pure rules: split arithmetic, the latency histogram's
 * percentiles, and the inspection of predict answers, on answer bodies
 * written by ann-serving's own answer writer. (No sockets: these would sit
 * in test/unit, next to the other adapters' rules.)
 */
import assert from 'node:assert/strict';
import {
  bucketUpperBoundMs,
  decodeHistogram,
  encodeHistogram,
  latencyBucket,
  percentileMs,
  type LatencyHistogram,
} from '../../shared/adapters/local/local-latency-buckets.js';
import {
  BodyTap,
  inspectPredictAnswer,
  isPredictRequest,
} from '../../shared/adapters/local/local-answer-inspection.js';
import {
  chooseShare,
  primaryOf,
  sameSplit,
  splitShapeProblems,
} from '../../shared/adapters/local/local-traffic-split.js';
import { predictResponseBody } from '../../services/ann-serving/src/protocol/predict-response.js';

describe('local traffic split rules', () => {
  it('names every problem of a split’s shape', () => {
    assert.deepEqual(
      splitShapeProblems([
        { revision: 'a', percent: 0 },
        { revision: 'b', percent: 10.5 },
        { revision: 'a', percent: 101 },
      ]),
      [
        'revision a has 0%, not a whole percent from 1 to 100',
        'revision b has 10.5%, not a whole percent from 1 to 100',
        'revision a has 101%, not a whole percent from 1 to 100',
        'revision a is named more than once',
        'the shares total 111.5%, not 100%',
      ],
    );
    assert.deepEqual(splitShapeProblems([]), ['the split names no revision']);
    assert.deepEqual(
      splitShapeProblems([
        { revision: 'a', percent: 90 },
        { revision: 'b', percent: 10 },
      ]),
      [],
    );
  });

  it('compares splits whatever their order', () => {
    const split = [
      { revision: 'a', percent: 90 },
      { revision: 'b', percent: 10 },
    ];
    assert.equal(sameSplit(split, [...split].reverse()), true);
    assert.equal(sameSplit(split, [{ revision: 'a', percent: 100 }]), false);
    assert.equal(
      sameSplit(split, [
        { revision: 'a', percent: 10 },
        { revision: 'b', percent: 90 },
      ]),
      false,
    );
  });

  it('keeps the current primary revision on a tie, else takes the largest share, then the first', () => {
    const even = [
      { revision: 'a', percent: 50 },
      { revision: 'b', percent: 50 },
    ];
    assert.equal(primaryOf(even, 'b'), 'b');
    assert.equal(primaryOf(even, 'x'), 'a');
    assert.equal(
      primaryOf(
        [
          { revision: 'a', percent: 30 },
          { revision: 'b', percent: 70 },
        ],
        'a',
      ),
      'b',
    );
    assert.equal(primaryOf([], 'a'), undefined);
  });

  it('draws each share in proportion to its percent', () => {
    const shares = [
      { revision: 'a', percent: 90 },
      { revision: 'b', percent: 10 },
    ];
    const drawn = { a: 0, b: 0 };
    for (let i = 0; i < 1000; i++) drawn[chooseShare(shares, i / 1000)!.revision as 'a' | 'b'] += 1;
    assert.deepEqual(drawn, { a: 900, b: 100 });
    assert.equal(chooseShare(shares, 0.999999999999)?.revision, 'b');
    assert.equal(chooseShare([], 0.5), undefined);
  });
});

describe('local router latency histogram', () => {
  it('reads p50 and p99 within one bucket (10%) above the true value, never below', () => {
    const histogram: LatencyHistogram = new Map();
    const latencies = Array.from({ length: 1000 }, (_, i) => 1 + i * 0.5); // 1 … 500.5 ms
    for (const ms of latencies) {
      const bucket = latencyBucket(ms);
      histogram.set(bucket, (histogram.get(bucket) ?? 0) + 1);
    }
    for (const [q, truth] of [
      [0.5, latencies[499]!],
      [0.99, latencies[989]!],
    ] as const) {
      const read = percentileMs(histogram, q)!;
      assert.ok(read >= truth && read <= truth * 1.1, `p${q * 100}: ${read} for ${truth}`);
    }
    assert.equal(percentileMs(new Map(), 0.5), undefined);
  });

  it('adds up stored histograms bucket by bucket', () => {
    const a: LatencyHistogram = new Map([
      [latencyBucket(5), 99],
      [latencyBucket(400), 1],
    ]);
    const text = encodeHistogram(a);
    assert.deepEqual(JSON.parse(text), [
      [latencyBucket(5), 99],
      [latencyBucket(400), 1],
    ]);
    const sum = decodeHistogram(`[${text.slice(1, -1)},${text.slice(1, -1)}]`);
    assert.deepEqual(
      [...sum],
      [
        [latencyBucket(5), 198],
        [latencyBucket(400), 2],
      ],
    );
    assert.ok(percentileMs(sum, 0.99)! >= 5 && percentileMs(sum, 0.99)! < 5.5);
    assert.ok(percentileMs(sum, 0.999)! >= 400);
  });

  it('puts sub-0.1 ms, negative and huge latencies in the end buckets', () => {
    assert.equal(latencyBucket(0.05), 0);
    assert.equal(latencyBucket(-3), 0);
    assert.equal(latencyBucket(Number.NaN), 0);
    assert.equal(latencyBucket(1e12), 199);
    assert.ok(bucketUpperBoundMs(latencyBucket(40)) > 40);
    assert.ok(bucketUpperBoundMs(latencyBucket(40) - 1) <= 40);
  });
});

describe('local router answer inspection (answers written by ann-serving)', () => {
  const ranked = { productIds: [1001, 1002, 1003], scores: new Float32Array([0.9, 0.5, 0.1]) };
  const tied = { productIds: ['P-1', 'P-2'], scores: new Float32Array([0.5, 0.5]) };
  const nan = { productIds: [1001, 1002], scores: new Float32Array([NaN, NaN]) };
  const none = { productIds: [], scores: new Float32Array([]) };

  it('counts degenerate predictions in the row format: no ids, equal scores (NaN too), fewer than k', () => {
    const body = predictResponseBody('row', [ranked, tied, nan, none]);
    assert.match(body, /NaN/, 'ann-serving writes NaN as a bare token');
    assert.deepEqual(inspectPredictAnswer(body, '{"instances":[]}'), {
      inspected: 4,
      degenerate: 3,
    });
    assert.deepEqual(inspectPredictAnswer(body, '{"instances":[],"k":3}'), {
      inspected: 4,
      degenerate: 3,
    });
    // k 4: the ranked prediction has 3 ids, too few.
    assert.deepEqual(inspectPredictAnswer(body, '{"instances":[],"k":4}'), {
      inspected: 4,
      degenerate: 4,
    });
    // A request ann-serving would accept with NaN in it still yields its k.
    assert.deepEqual(inspectPredictAnswer(body, '{"instances":[{"r":NaN}],"k":4}'), {
      inspected: 4,
      degenerate: 4,
    });
    // k = 1: one NaN score cannot tie with another, but it ranks nothing.
    const single = { productIds: [-1], scores: new Float32Array([NaN]) };
    const one = predictResponseBody('row', [
      single,
      { productIds: [1001], scores: new Float32Array([0.9]) },
    ]);
    assert.deepEqual(inspectPredictAnswer(one, '{"instances":[],"k":1}'), {
      inspected: 2,
      degenerate: 1,
    });
  });

  it('reads the columnar format, and other id lists than product_ids', () => {
    const columnar = predictResponseBody('columnar', [ranked, tied]);
    assert.deepEqual(inspectPredictAnswer(columnar, undefined), { inspected: 2, degenerate: 1 });
    const items = JSON.stringify({ predictions: [{ scores: [0.2, 0.1], item_ids: ['x', 'y'] }] });
    assert.deepEqual(inspectPredictAnswer(items, '{"k":2}'), { inspected: 1, degenerate: 0 });
    const scoresOnly = JSON.stringify({ predictions: [{ scores: [0.2, 0.1] }] });
    assert.deepEqual(inspectPredictAnswer(scoresOnly, undefined), { inspected: 1, degenerate: 1 });
  });

  it('does not count answers it cannot read as predictions', () => {
    for (const body of ['<html>', '{"error":"x"}', '{"predictions":[[0.1,0.2]]}', '[]', '']) {
      assert.equal(inspectPredictAnswer(body, undefined), undefined, body);
    }
  });

  it('recognises predict requests by method and path', () => {
    assert.equal(isPredictRequest('POST', '/v1/models/recs:predict'), true);
    assert.equal(isPredictRequest('POST', '/v1/models/recs/versions/2:predict?x=1'), true);
    assert.equal(isPredictRequest('GET', '/v1/models/recs:predict'), false);
    assert.equal(isPredictRequest('POST', '/v1/models/recs:classify'), false);
  });

  it('keeps a body up to its limit and lets go of it beyond', () => {
    const tap = new BodyTap(10);
    tap.push(Buffer.from('{"a":'));
    tap.push('12}');
    assert.equal(tap.text(), '{"a":12}');
    tap.push('xxx');
    assert.equal(tap.text(), undefined);
    tap.push('y');
    assert.equal(tap.text(), undefined);
  });
});
