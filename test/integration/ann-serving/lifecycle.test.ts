/**
 * ann-serving's life: the index built at start-up when the bundle has none,
 * SIGTERM with a request in flight, and the exit codes of a bad start. Real
 * child processes on loopback ports, the sample bundle of the protocol suite.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { assertRanked, predictionsOf } from '../../support/ann-serving/predict-assertions.js';
import { predict, type RawResponse } from '../../support/ann-serving/raw-http.js';
import { sampleBundleWithoutIndex } from '../../support/ann-serving/sample-bundle.js';
import {
  runUntilExit,
  startServer,
  waitUntilReady,
} from '../../support/ann-serving/server-process.js';

describe('ann-serving lifecycle', function () {
  this.timeout(120_000);

  it('builds a missing index at start-up (loudly), and on SIGTERM finishes the request in flight and exits 0', async () => {
    const bundle = await sampleBundleWithoutIndex();
    const server = await startServer({ MODEL_PATH: `file://${bundle.dir}`, SERVING_MODE: 'ann' });
    try {
      await waitUntilReady(server);
      const warning = server.logs.find((line) =>
        String(line.message).startsWith('NO PREBUILT HNSW INDEX'),
      );
      assert.equal(warning?.severity, 'WARNING');
      const ready = server.logs.find((line) => line.message === 'model AVAILABLE');
      assert.equal(ready?.mode, 'ann');
      const payload = JSON.stringify({ instances: [bundle.examples[0]] });
      const expected = predictionsOf(await predict(server.port, payload));
      assertRanked(expected[0]!, bundle.manifest.default_k, bundle);

      // A request whose body is still arriving when SIGTERM comes.
      const inFlight = new Promise<RawResponse>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port: server.port,
            method: 'POST',
            path: '/v1/models/recommender:predict',
            agent: false,
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }),
            );
          },
        );
        req.on('error', reject);
        req.write(payload.slice(0, 10));
        setTimeout(() => {
          server.child.kill('SIGTERM');
          setTimeout(() => req.end(payload.slice(10)), 300);
        }, 100);
      });
      const response = await inFlight;
      assert.deepEqual(predictionsOf(response), expected);
      assert.equal(response.headers.connection, 'close');
      const exit = await server.exited;
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.ok(server.logs.some((line) => line.message === 'stopped' && line.drained === true));
    } finally {
      await server.stop();
    }
  });

  it('exits 2 on invalid configuration, listing every problem', async () => {
    const { code, stderr } = await runUntilExit({ PORT: 'eighty', SERVING_MODE: 'fast' });
    assert.equal(code, 2);
    assert.match(stderr, /MODEL_PATH is required/);
    assert.match(stderr, /PORT="eighty" is invalid/);
    assert.match(stderr, /SERVING_MODE="fast" is invalid: expected one of ann, exact/);
  });

  it('exits 1 when the model cannot be loaded, saying why', async () => {
    const { code, stdout } = await runUntilExit({ MODEL_PATH: '/nonexistent/model' });
    assert.equal(code, 1);
    const failure = stdout
      .split('\n')
      .filter(Boolean)
      .map(
        (line) =>
          JSON.parse(line) as { message: string; severity: string; err?: { code?: string } },
      )
      .find((line) => line.message === 'model failed to load');
    assert.equal(failure?.severity, 'ERROR');
    assert.equal(failure?.err?.code, 'BUNDLE.INVALID');
  });
});
