import assert from 'node:assert/strict';
import { ConfigError } from '@recdeploy/shared';
import { loadServingConfig } from '../../../services/ann-serving/src/config/serving-config.js';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadServingConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('ann-serving configuration', () => {
  it('needs only MODEL_PATH; everything else has a default', () => {
    const config = loadServingConfig({ MODEL_PATH: 'gs://bucket/models/7' });
    assert.equal(config.modelPath, 'gs://bucket/models/7');
    assert.equal(config.modelName, 'recommender');
    assert.equal(config.modelVersion, 1);
    assert.equal(config.port, 8501);
    assert.equal(config.host, '127.0.0.1', 'loopback unless HOST says otherwise');
    assert.equal(config.mode, 'ann');
    assert.deepEqual(config.batching, {
      maxBatchSize: 64,
      timeoutMicros: 0,
      maxEnqueuedBatches: 16,
    });
    assert.deepEqual(config.admission, { targetMs: 20, intervalMs: 200, retryAfterSeconds: 1 });
    assert.equal(config.maxInstances, 256);
    assert.equal(config.maxK, undefined);
    assert.equal(config.bodyLimitBytes, 1_048_576);
    assert.equal(config.shutdownTimeoutMs, 8000);
    assert.equal(config.logLevel, 'info');
    assert.ok(Object.isFrozen(config));
  });

  it('reads every variable, converting numbers', () => {
    const config = loadServingConfig({
      MODEL_PATH: 'file:///models/m',
      MODEL_NAME: 'recs',
      MODEL_VERSION: '42',
      PORT: '0',
      HOST: '0.0.0.0',
      SERVING_MODE: 'exact',
      BATCH_MAX_SIZE: '8',
      BATCH_TIMEOUT_MICROS: '500',
      BATCH_MAX_ENQUEUED: '4',
      MAX_INSTANCES: '32',
      MAX_K: '200',
      BODY_LIMIT_BYTES: '65536',
      SHUTDOWN_TIMEOUT_MS: '100',
      MODEL_CACHE_DIR: '/cache',
      LOG_LEVEL: 'debug',
      ADMISSION_TARGET_MS: '0',
      ADMISSION_INTERVAL_MS: '250',
      ADMISSION_RETRY_AFTER_S: '5',
    });
    assert.deepEqual(config.admission, { targetMs: 0, intervalMs: 250, retryAfterSeconds: 5 });
    assert.deepEqual(
      [config.modelName, config.modelVersion, config.port, config.host, config.mode],
      ['recs', 42, 0, '0.0.0.0', 'exact'],
    );
    assert.deepEqual(config.batching, {
      maxBatchSize: 8,
      timeoutMicros: 500,
      maxEnqueuedBatches: 4,
    });
    assert.deepEqual(
      [
        config.maxInstances,
        config.maxK,
        config.bodyLimitBytes,
        config.shutdownTimeoutMs,
        config.modelCacheDir,
      ],
      [32, 200, 65536, 100, '/cache'],
    );
  });

  it('resolves a relative MODEL_PATH against the directory npm was run from', () => {
    assert.equal(
      loadServingConfig({ MODEL_PATH: 'models/m', INIT_CWD: '/repo' }).modelPath,
      '/repo/models/m',
    );
    assert.equal(
      loadServingConfig({ MODEL_PATH: '/abs/m', INIT_CWD: '/repo' }).modelPath,
      '/abs/m',
    );
    assert.equal(
      loadServingConfig({ MODEL_PATH: 'file:///abs/m', INIT_CWD: '/repo' }).modelPath,
      'file:///abs/m',
    );
    assert.equal(loadServingConfig({ MODEL_PATH: 'm' }).modelPath, `${process.cwd()}/m`);
  });

  it('lists every problem at once', () => {
    const problems = problemsOf({
      MODEL_NAME: 'a/b',
      PORT: '70000',
      SERVING_MODE: 'fast',
      BATCH_MAX_SIZE: 'many',
    });
    const variables = new Set(problems.map((p) => /^[A-Z_]+/.exec(p)?.[0]));
    assert.deepEqual([...variables].sort(), [
      'BATCH_MAX_SIZE',
      'MODEL_NAME',
      'MODEL_PATH',
      'PORT',
      'SERVING_MODE',
    ]);
    assert.ok(problems.some((p) => p.startsWith('MODEL_PATH is required')));
    assert.ok(problems.some((p) => p.startsWith('MODEL_NAME="a/b" is invalid')));
    assert.ok(problems.some((p) => p.includes('PORT') && p.includes('65535')));
    assert.ok(
      problems.some((p) => p === 'SERVING_MODE="fast" is invalid: expected one of ann, exact'),
    );
    assert.ok(problems.some((p) => p.startsWith('BATCH_MAX_SIZE="many" is invalid')));
  });

  it('refuses an instance limit the batch queue could never hold', () => {
    assert.deepEqual(
      problemsOf({
        MODEL_PATH: 'm',
        BATCH_MAX_SIZE: '4',
        BATCH_MAX_ENQUEUED: '2',
        MAX_INSTANCES: '9',
      }),
      ['MAX_INSTANCES=9 exceeds the batch queue (BATCH_MAX_SIZE × BATCH_MAX_ENQUEUED = 8)'],
    );
  });

  it('refuses admission settings that give a burst no room', () => {
    assert.deepEqual(
      problemsOf({ MODEL_PATH: 'm', ADMISSION_TARGET_MS: '50', ADMISSION_INTERVAL_MS: '20' }),
      ['ADMISSION_INTERVAL_MS=20 is shorter than ADMISSION_TARGET_MS=50'],
    );
    const problems = problemsOf({ MODEL_PATH: 'm', ADMISSION_TARGET_MS: '-1' });
    assert.ok(
      problems.some((p) => p.startsWith('ADMISSION_TARGET_MS=-1 is invalid')),
      problems.join('; '),
    );
  });
});
