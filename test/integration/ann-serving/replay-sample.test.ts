/**
 * ann-serving's replay sample over real HTTP against real server processes
 * (the protocol suite's sample bundle): off by default, then with
 * REPLAY_SAMPLE_SIZE=50 the file it writes every second, what it holds and
 * what it never holds, the last write on SIGTERM, and a restart continuing
 * from it. Then the gs:// store with the real Cloud Storage client against
 * the repo's Cloud Storage JSON API fake.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Storage } from '@google-cloud/storage';
import { RecordingLogger } from '@recdeploy/shared';
import { parseReplaySample, type ReplaySample } from '../../../shared/ann/bundle/replay-sample.js';
import { ReplaySampler } from '../../../services/ann-serving/src/replay/replay-sampler.js';
import { openReplaySampleStore } from '../../../services/ann-serving/src/replay/replay-sample-store.js';
import { ReplaySampleWriter } from '../../../services/ann-serving/src/replay/replay-sample-writer.js';
import { rawRequest } from '../../support/ann-serving/raw-http.js';
import { sampleBundle, type SampleBundle } from '../../support/ann-serving/sample-bundle.js';
import {
  startServer,
  waitUntilReady,
  type ServerProcess,
} from '../../support/ann-serving/server-process.js';
import { GcsJsonFake } from '../../support/fakes/gcs-json-fake.js';

const SECRET_HEADER_VALUE = 'header-secret-4711';

async function post(
  server: ServerProcess,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<void> {
  const response = await rawRequest(server.port, {
    method: 'POST',
    path: '/v1/models/recommender:predict',
    body: JSON.stringify(body),
    headers: {
      'content-type': 'application/json',
      'x-client-note': SECRET_HEADER_VALUE,
      ...headers,
    },
  });
  assert.equal(response.status, 200, response.body);
}

/** `count` client instances, cycling through the bundle's examples. */
function instances(bundle: SampleBundle, count: number, offset = 0): Record<string, unknown>[] {
  return Array.from(
    { length: count },
    (_, i) => bundle.examples[(offset + i) % bundle.examples.length]!,
  );
}

/** The same instances in the columnar format, plus a column the signature does not have. */
function columnar(rows: readonly Record<string, unknown>[]): Record<string, unknown[]> {
  const columns: Record<string, unknown[]> = { email: rows.map(() => 'someone@example.com') };
  for (const row of rows) {
    for (const [name, value] of Object.entries(row)) (columns[name] ??= []).push(value);
  }
  return columns;
}

async function readSample(file: string): Promise<ReplaySample | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const parsed = parseReplaySample(text);
  assert.ok('sample' in parsed, 'problem' in parsed ? parsed.problem : '');
  return parsed.sample;
}

async function waitForSample(
  file: string,
  done: (sample: ReplaySample) => boolean,
  timeoutMs = 30_000,
): Promise<ReplaySample> {
  const deadline = Date.now() + timeoutMs;
  let last: ReplaySample | undefined;
  while (Date.now() < deadline) {
    last = await readSample(file);
    if (last !== undefined && done(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`sample not written as expected within ${timeoutMs} ms; last: seen ${last?.seen}`);
}

async function metric(server: ServerProcess, name: string): Promise<string> {
  const text = (await rawRequest(server.port, { path: '/metrics' })).body;
  return text
    .split('\n')
    .filter((line) => line.startsWith(name))
    .join('\n');
}

describe('ann-serving replay sample', function () {
  this.timeout(180_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ann-serving-replay-'));
  });

  after(() => rm(dir, { recursive: true, force: true }));

  it('keeps nothing by default; with a size, samples live predicts only, writes them every interval and on SIGTERM, and a restart continues', async () => {
    const bundle = await sampleBundle();
    const inputNames = bundle.manifest.inputs.map((input) => input.name).sort();
    const file = path.join(dir, 'replay', 'endpoint-a', 'rev-1.json');
    const base = {
      MODEL_PATH: `file://${bundle.dir}`,
      TRAINING_RUN_ID: 'train-replay-1',
      // Admission control off: on a busy test machine it may shed a request, and counts are asserted.
      ADMISSION_TARGET_MS: '0',
    };
    const [off, on] = await Promise.all([
      startServer({ ...base, REPLAY_PERSIST_INTERVAL_S: '1' }),
      startServer({
        ...base,
        REPLAY_SAMPLE_SIZE: '50',
        REPLAY_SAMPLE_URI: `file://${file}`,
        REPLAY_PERSIST_INTERVAL_S: '1',
      }),
    ]);
    let restarted: ServerProcess | undefined;
    try {
      await Promise.all([waitUntilReady(off), waitUntilReady(on)]);

      // 200 live instances in both formats; 30 more from verify, which must not count.
      for (const server of [off, on]) {
        await post(server, { instances: instances(bundle, 80) });
        await post(server, { inputs: columnar(instances(bundle, 70, 80)) });
        await post(server, { instances: instances(bundle, 50, 150) });
        await post(
          server,
          { instances: instances(bundle, 30) },
          { 'X-Recdeploy-Verification': '1' },
        );
      }

      const sample = await waitForSample(file, (s) => s.seen >= 200);
      assert.equal(sample.seen, 200, 'verify’s 30 instances are not counted');
      assert.equal(sample.capacity, 50);
      assert.equal(sample.instances.length, 50);
      assert.equal(sample.model_name, 'recommender');
      assert.equal(sample.training_run_id, 'train-replay-1');
      for (const instance of sample.instances) {
        assert.deepEqual(Object.keys(instance).sort(), inputNames, 'only the signature’s inputs');
      }
      const text = await readFile(file, 'utf8');
      assert.ok(!text.includes(SECRET_HEADER_VALUE), 'no header value');
      assert.ok(!text.includes('someone@example.com'), 'no input outside the signature');
      assert.match(await metric(on, 'ann_serving_replay_sample_instances'), / 50$/);
      assert.match(
        await metric(on, 'ann_serving_replay_sample_writes_total'),
        /result="ok"} [1-9]/,
      );

      // The privacy default: the other server kept and wrote nothing.
      assert.match(await metric(off, 'ann_serving_replay_sample_instances'), / 0$/);
      assert.ok(!off.logs.some((line) => String(line.message).startsWith('replay sample')));

      // Answered just before SIGTERM: in the file after the last write, whatever the interval.
      await post(on, { instances: instances(bundle, 10) });
      assert.deepEqual(await on.stop(), { code: 0, signal: null });
      assert.equal((await readSample(file))?.seen, 210);
      assert.deepEqual(await readdir(path.dirname(file)), ['rev-1.json']);

      // The same revision restarted continues from the file instead of starting over.
      restarted = await startServer({
        ...base,
        REPLAY_SAMPLE_SIZE: '50',
        REPLAY_SAMPLE_URI: file,
        REPLAY_PERSIST_INTERVAL_S: '1',
      });
      await waitUntilReady(restarted);
      assert.match(await metric(restarted, 'ann_serving_replay_sample_instances'), / 50$/);
      await post(restarted, { instances: instances(bundle, 5) });
      const continued = await waitForSample(file, (s) => s.seen >= 215);
      assert.equal(continued.seen, 215);
      assert.equal(continued.sampling_since, sample.sampling_since);
    } finally {
      await Promise.all([off.stop(), on.stop(), restarted?.stop()]);
    }
    assert.deepEqual(await readdir(dir), ['replay'], 'the server without a size wrote nothing');
  });

  it('writes and restores a gs:// sample with the real Cloud Storage client (the JSON API fake)', async () => {
    const fake = new GcsJsonFake(['artifacts']);
    await fake.start();
    try {
      const storage = new Storage(fake.storageOptions());
      const store = openReplaySampleStore(
        { kind: 'gs', bucket: 'artifacts', name: 'replay/endpoint-a/rev-1.json' },
        (name) => Promise.resolve(storage.bucket(name)),
      );
      const logger = new RecordingLogger();
      const results: string[] = [];
      const sampler = new ReplaySampler({ capacity: 3, modelName: 'recommender' });
      const writer = new ReplaySampleWriter(sampler, store, {
        intervalMs: 60_000,
        logger,
        onWrite: (result) => results.push(result),
      });
      await writer.restore();
      assert.equal(sampler.size, 0, 'no object yet: a new sample');
      sampler.record([{ customer_id: 'C-1' }, { customer_id: 'C-2' }], {});

      fake.failNext(503, { when: (request) => request.kind === 'upload' });
      await writer.flush();
      await writer.flush();
      assert.deepEqual(results, ['error', 'ok'], 'a failed upload is tried again');
      const stored = fake.getObject('artifacts', 'replay/endpoint-a/rev-1.json');
      assert.equal(stored?.contentType, 'application/json');
      const uploads = fake.requests.filter((request) => request.kind === 'upload');
      assert.ok(
        uploads.every((request) => request.query.uploadType === 'multipart'),
        'resumable: false',
      );
      await writer.close();

      const again = new ReplaySampler({ capacity: 3, modelName: 'recommender' });
      await new ReplaySampleWriter(again, store, { intervalMs: 60_000, logger }).restore();
      assert.deepEqual(again.snapshot().instances, [
        { customer_id: 'C-1' },
        { customer_id: 'C-2' },
      ]);
      assert.equal(again.snapshot().seen, 2);
    } finally {
      await fake.stop();
    }
  });
});
