import assert from 'node:assert/strict';
import { ConfigError } from '@recdeploy/shared';
import { loadServingConfig } from '../../../services/ann-serving/src/config/serving-config.js';

const MODEL = { MODEL_PATH: '/models/m' };

function problemsOf(env: Record<string, string>): string {
  try {
    loadServingConfig({ ...MODEL, ...env });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems.join('\n');
  }
  assert.fail('expected a ConfigError');
}

describe('ann-serving replay sample configuration', () => {
  it('is off by default (instances can hold customer data), even with a URI', () => {
    assert.equal(loadServingConfig(MODEL).replaySample, undefined);
    const zero = loadServingConfig({
      ...MODEL,
      REPLAY_SAMPLE_SIZE: '0',
      REPLAY_SAMPLE_URI: '/d/s.json',
    });
    assert.equal(zero.replaySample, undefined);
  });

  it('reads a size, a local path, file:// or gs:// object, and the interval in seconds', () => {
    const local = loadServingConfig({
      ...MODEL,
      REPLAY_SAMPLE_SIZE: '2000',
      REPLAY_SAMPLE_URI: '/data/replay/e/r.json',
    });
    assert.deepEqual(local.replaySample, {
      capacity: 2000,
      location: { kind: 'local', path: '/data/replay/e/r.json' },
      persistIntervalMs: 60_000,
    });
    const file = loadServingConfig({
      ...MODEL,
      REPLAY_SAMPLE_SIZE: '50',
      REPLAY_SAMPLE_URI: 'file:///data/replay/e/r.json',
      REPLAY_PERSIST_INTERVAL_S: '1',
    });
    assert.deepEqual(file.replaySample?.location, { kind: 'local', path: '/data/replay/e/r.json' });
    assert.equal(file.replaySample?.persistIntervalMs, 1000);
    const gs = loadServingConfig({
      ...MODEL,
      REPLAY_SAMPLE_SIZE: '5',
      REPLAY_SAMPLE_URI: 'gs://artifacts/replay/e/r.json',
    });
    assert.deepEqual(gs.replaySample?.location, {
      kind: 'gs',
      bucket: 'artifacts',
      name: 'replay/e/r.json',
    });
  });

  it('refuses bad values at start, saying which and why', () => {
    assert.match(
      problemsOf({ REPLAY_SAMPLE_SIZE: '10' }),
      /REPLAY_SAMPLE_URI is required when REPLAY_SAMPLE_SIZE=10/,
    );
    assert.match(
      problemsOf({ REPLAY_SAMPLE_SIZE: '100001', REPLAY_SAMPLE_URI: '/s.json' }),
      /REPLAY_SAMPLE_SIZE="?100001"? is invalid/,
    );
    assert.match(
      problemsOf({ REPLAY_SAMPLE_SIZE: 'many', REPLAY_SAMPLE_URI: '/s.json' }),
      /REPLAY_SAMPLE_SIZE="?many"? is invalid/,
    );
    assert.match(
      problemsOf({ REPLAY_PERSIST_INTERVAL_S: '0.5' }),
      /REPLAY_PERSIST_INTERVAL_S="?0.5"? is invalid/,
    );
    const uris: Record<string, RegExp> = {
      'replay/s.json': /relative path/,
      'gs://artifacts': /not an object/,
      'gs://artifacts/replay/': /not an object/,
      'gs://artifacts/replay/../../x.json': /unsafe object name/,
      'gs://Bad_Bucket/x.json': /invalid bucket name/,
      'file:///data/%2e%2e/x.json': /unsafe path/,
      'https://example.com/s.json': /absolute path, a file:\/\/ URI or gs:\/\/bucket\/object/,
      '/data/replay/': /directory/,
    };
    for (const [uri, expected] of Object.entries(uris)) {
      const problems = problemsOf({ REPLAY_SAMPLE_SIZE: '10', REPLAY_SAMPLE_URI: uri });
      assert.match(problems, /^REPLAY_SAMPLE_URI=/, uri);
      assert.match(problems, expected, uri);
    }
  });
});
