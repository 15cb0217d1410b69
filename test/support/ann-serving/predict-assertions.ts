/**
 * Assertions on ann-serving's answers over real HTTP, shared by the protocol
 * and lifecycle suites: TF Serving's error body, row predictions, a ranking
 * of known product ids, the batch-size histogram, a log line awaited.
 */
import assert from 'node:assert/strict';
import { parseLenient, rawRequest, type RawResponse } from './raw-http.js';
import type { SampleBundle } from './sample-bundle.js';

export interface RowPrediction {
  product_ids: (string | number)[];
  scores: (number | string)[];
}

/** The `error` of a TF Serving error body with this status (and nothing else in it). */
export function errorOf(response: RawResponse, status: number): string {
  assert.equal(response.status, status, response.body);
  assert.equal(response.headers['content-type'], 'application/json');
  const body = JSON.parse(response.body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body), ['error']);
  return body.error as string;
}

/** The predictions of a 200 row-format answer (bare NaN tokens read as "NaN"). */
export function predictionsOf(response: RawResponse): RowPrediction[] {
  assert.equal(response.status, 200, response.body);
  assert.equal(response.headers['content-type'], 'application/json');
  return parseLenient<{ predictions: RowPrediction[] }>(response.body).predictions;
}

/** k distinct products of the bundle, scores descending. */
export function assertRanked(prediction: RowPrediction, k: number, bundle: SampleBundle): void {
  assert.equal(prediction.product_ids.length, k);
  assert.equal(prediction.scores.length, k);
  const known = new Set(bundle.productIds);
  for (const id of prediction.product_ids) {
    assert.ok(known.has(id), `${String(id)} is not an id of product_ids.json`);
  }
  assert.equal(new Set(prediction.product_ids).size, k, 'no product twice');
  const scores = prediction.scores as number[];
  for (let i = 1; i < scores.length; i++) {
    assert.ok(scores[i - 1]! >= scores[i]!, `scores descend: ${scores.join(',')}`);
  }
}

/** The batch-size histogram's count, sum and le="1" bucket from /metrics. */
export async function batchStats(
  port: number,
): Promise<{ count: number; sum: number; singles: number }> {
  const text = (await rawRequest(port, { path: '/metrics' })).body;
  const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0);
  return {
    count: value(/^ann_serving_batch_size_count (\S+)$/m),
    sum: value(/^ann_serving_batch_size_sum (\S+)$/m),
    singles: value(/^ann_serving_batch_size_bucket\{le="1"\} (\S+)$/m),
  };
}

/**
 * The first log line matching `match` once it has arrived: the server logs
 * before it answers, but its stdout reaches the test on its own schedule.
 */
export async function logLine(
  logs: readonly Record<string, unknown>[],
  match: (line: Record<string, unknown>) => boolean,
  timeoutMs = 10_000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = logs.find(match);
    if (line) return line;
    if (Date.now() > deadline) throw new Error('no such log line in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
