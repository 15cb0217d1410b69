/**
 * 2,000 malformed predict requests against the real server process: every
 * answer must be a 4xx (a client's mistake is never a 5xx), the process must
 * stay up and ready, and its memory must not grow without bound.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sampleBundle, type SampleBundle } from '../../support/ann-serving/sample-bundle.js';
import { rawRequest, type RawRequest } from '../../support/ann-serving/raw-http.js';
import {
  startServer,
  waitUntilReady,
  type ServerProcess,
} from '../../support/ann-serving/server-process.js';

const MAX_INSTANCES = 16;
const REQUESTS = 2000;
const WARM_UP = 300;
const CONCURRENCY = 16;
const PREDICT = '/v1/models/recommender:predict';

type Json = unknown;

/** JSON values that are never a string (nor a `{"b64": …}` object). */
const notAString: fc.Arbitrary<Json> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { minLength: 1, maxLength: 3 }),
  fc.dictionary(
    fc.string().filter((key) => key !== 'b64'),
    fc.integer(),
    { minKeys: 1, maxKeys: 2 },
  ),
);

/** JSON values that are never a number. */
const notANumber: fc.Arbitrary<Json> = fc.oneof(
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.double({ noNaN: true }), { minLength: 1, maxLength: 3 }),
  fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }),
);

/** Each arbitrary yields a request that is wrong in at least one way. */
function malformedRequests(bundle: SampleBundle): fc.Arbitrary<RawRequest> {
  const inputs = bundle.manifest.inputs;
  const names = inputs.map((input) => input.name);
  const example = fc.constantFrom(...bundle.examples);
  const maxK = bundle.manifest.max_k ?? 1000;
  const post = (body: string | Uint8Array): RawRequest => ({ method: 'POST', path: PREDICT, body });
  const withInstance = (
    mutate: fc.Arbitrary<(instance: Record<string, Json>) => Record<string, Json>>,
  ) =>
    fc
      .tuple(example, mutate)
      .map(([instance, change]) => post(JSON.stringify({ instances: [change({ ...instance })] })));
  const wrongType = fc
    .constantFrom(...inputs)
    .chain((input) =>
      (input.dtype === 'string' ? notAString : notANumber).map(
        (value) => (i: Record<string, Json>) => ({ ...i, [input.name]: value }),
      ),
    );
  const missing = fc
    .constantFrom(...names)
    .map(
      (name) => (i: Record<string, Json>) =>
        Object.fromEntries(Object.entries(i).filter(([key]) => key !== name)),
    );
  const extra = fc
    .tuple(
      fc.string().filter((key) => !names.includes(key)),
      fc.jsonValue(),
    )
    .map(([key, value]) => (i: Record<string, Json>) => ({ ...i, [key]: value }));
  const valid = example.map((instance) => JSON.stringify({ instances: [instance] }));
  return fc.oneof(
    fc.uint8Array({ maxLength: 400 }).map(post),
    fc.json().map(post),
    withInstance(wrongType),
    withInstance(missing),
    withInstance(extra),
    fc
      .tuple(
        example,
        fc.oneof(
          fc.integer({ max: 0 }),
          fc.integer({ min: maxK + 1 }),
          fc.double({ min: 1.01, max: 50, noInteger: true }),
          fc.string(),
        ),
      )
      .map(([instance, k]) => post(JSON.stringify({ instances: [instance], k }))),
    fc
      .tuple(
        example,
        fc.oneof(
          fc.string().filter((s) => s !== '' && s !== 'serving_default'),
          fc.integer(),
        ),
      )
      .map(([instance, name]) =>
        post(JSON.stringify({ signature_name: name, instances: [instance] })),
      ),
    fc
      .oneof(fc.constant({}), fc.constant([]), fc.string(), fc.integer())
      .map((instances) => post(JSON.stringify({ instances }))),
    fc
      .integer({ min: MAX_INSTANCES + 1, max: MAX_INSTANCES + 20 })
      .chain((n) =>
        fc
          .array(example, { minLength: n, maxLength: n })
          .map((instances) => post(JSON.stringify({ instances }))),
      ),
    fc.tuple(valid, fc.nat()).map(([text, cut]) => post(text.slice(0, cut % text.length))),
    fc
      .integer({ min: 1, max: 2000 })
      .map((depth) => post(`{"instances":${'['.repeat(depth)}${']'.repeat(depth)}}`)),
    example.map((instance) =>
      post(JSON.stringify({ instances: [instance] }).replace(/}]}$/, ',"x":1e999}]}')),
    ),
    fc.tuple(example, fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([instance, bytes]) => {
      // Invalid UTF-8 in a key: it names no input.
      const text = JSON.stringify({ instances: [{ ...instance, '\u0000': 1 }] });
      const [head, tail] = text.split('\\u0000');
      return post(
        Buffer.concat([
          Buffer.from(head!),
          Buffer.from(bytes.map((b) => b | 0x80)),
          Buffer.from(tail!),
        ]),
      );
    }),
    fc.constantFrom<RawRequest>(
      { method: 'GET', path: PREDICT },
      { method: 'PUT', path: PREDICT, body: '{}' },
      { method: 'POST', path: '/v1/models/recommender:PREDICT', body: '{}' },
      { method: 'POST', path: '/v1/models/other:predict', body: '{"instances":[1]}' },
      { method: 'POST', path: '/v1/models/recommender/versions/x:predict', body: '{}' },
    ),
  );
}

async function residentBytes(port: number): Promise<number> {
  const text = (await rawRequest(port, { path: '/metrics' })).body;
  return Number(/^process_resident_memory_bytes (\S+)$/m.exec(text)?.[1]);
}

/** Sends requests with a bounded number in flight; returns their statuses. */
async function sendAll(
  port: number,
  requests: readonly RawRequest[],
): Promise<{ status: number; request: RawRequest; body: string }[]> {
  const results: { status: number; request: RawRequest; body: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const request = requests[next++]!;
      const response = await rawRequest(port, request);
      results.push({ status: response.status, request, body: response.body });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return results;
}

describe('ann-serving fuzz: malformed predict requests', function () {
  this.timeout(120_000);
  let server: ServerProcess;
  let bundle: SampleBundle;

  before(async () => {
    bundle = await sampleBundle();
    server = await startServer({
      MODEL_PATH: bundle.dir,
      SERVING_MODE: 'exact',
      MAX_INSTANCES: String(MAX_INSTANCES),
    });
    await waitUntilReady(server);
  });

  after(async () => {
    await server?.stop();
  });

  it(`answers ${REQUESTS} malformed requests with 4xx only, stays up, and keeps its memory`, async () => {
    const requests = fc.sample(malformedRequests(bundle), {
      numRuns: WARM_UP + REQUESTS,
      seed: 20240611,
    });
    const warmUp = await sendAll(server.port, requests.slice(0, WARM_UP));
    const rssAfterWarmUp = await residentBytes(server.port);
    const results = await sendAll(server.port, requests.slice(WARM_UP));
    assert.equal(results.length, REQUESTS);
    const wrong = [...warmUp, ...results].filter(({ status }) => status < 400 || status >= 500);
    assert.deepEqual(
      wrong.slice(0, 3).map(({ status, request, body }) => ({
        status,
        body,
        request: String(request.body).slice(0, 300),
      })),
      [],
      `${wrong.length} answers were not 4xx`,
    );
    const statuses = new Set(results.map(({ status }) => status));
    assert.ok(statuses.has(400) && statuses.has(404), `statuses seen: ${[...statuses].join(',')}`);

    assert.equal(server.child.exitCode, null, 'the process is still running');
    assert.equal((await rawRequest(server.port, { path: '/health' })).status, 200);
    const valid = await rawRequest(server.port, {
      method: 'POST',
      path: PREDICT,
      body: JSON.stringify({ instances: [bundle.examples[0]] }),
    });
    assert.equal(valid.status, 200, 'and it still predicts');
    // Exact mode with a query that has no finite embedding (see the protocol test).
    const float = bundle.manifest.inputs.find((input) => input.dtype === 'float32')!.name;
    const infinite = await rawRequest(server.port, {
      method: 'POST',
      path: PREDICT,
      body: JSON.stringify({ instances: [{ ...bundle.examples[0], [float]: '_' }] }).replace(
        '"_"',
        'Infinity',
      ),
    });
    assert.equal(infinite.status, 200, infinite.body);
    assert.match(infinite.body, /"scores":\[NaN(,NaN)*\]/);

    const rssAfter = await residentBytes(server.port);
    const growthMb = (rssAfter - rssAfterWarmUp) / 2 ** 20;
    assert.ok(
      growthMb < 64,
      `RSS grew ${growthMb.toFixed(1)} MB over ${REQUESTS} requests (${(rssAfterWarmUp / 2 ** 20).toFixed(0)} → ${(rssAfter / 2 ** 20).toFixed(0)} MB)`,
    );
  });
});
