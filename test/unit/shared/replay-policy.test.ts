/**
 * The replay policy (shared/config/replay-policy-config.ts) and what it does
 * to the revisions deploy asks for: sampling is off unless the operator turns
 * it on (instances can hold customer data), a sampling endpoint needs a base
 * URI, per-endpoint settings apply to their endpoint only, and only
 * ann-serving revisions of sampling endpoints get the REPLAY_* variables.
 */
import assert from 'node:assert/strict';
import { ConfigError, type RunDocument } from '@recdeploy/shared';
import { containerEnv, loadChainConfig, revisionSpecFor } from '@recdeploy/shared/chain';
import { replaySampleUri } from '../../../shared/config/replay-policy-config.js';

const BASE_ENV = { RECDEPLOY_DATA_DIR: '/tmp/rd' };

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadChainConfig({ ...BASE_ENV, ...env });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

const run = {
  trainingRunId: 'tr-7',
  modelEndpointId: 'home',
  artifactUri: 'file:///tmp/rd/bundles/tr-7',
  runNumber: 7,
  runId: 'home-tr-7',
} as unknown as RunDocument;

describe('replay policy', () => {
  it('samples nothing by default: no REPLAY_* variable reaches a revision', () => {
    const config = loadChainConfig(BASE_ENV);
    assert.equal(config.replay.defaults.sampleSize, 0);
    const spec = revisionSpecFor(config, run, { runtime: 'ann-serving', mode: 'ann' } as never);
    assert.deepEqual(
      Object.keys(spec.env).filter((name) => name.startsWith('REPLAY_')),
      [],
    );
  });

  it('requires REPLAY_SAMPLE_BASE_URI as soon as an endpoint samples, naming it', () => {
    assert.ok(
      problemsOf({ REPLAY_SAMPLE_SIZE: '200' }).some((p) =>
        p.startsWith('REPLAY_SAMPLE_BASE_URI is required when an endpoint samples'),
      ),
    );
    assert.ok(
      problemsOf({ REPLAY_ENDPOINTS: '{"home": {"sample_size": 5}}' }).some((p) =>
        p.startsWith('REPLAY_SAMPLE_BASE_URI is required'),
      ),
    );
    assert.ok(
      problemsOf({ REPLAY_SAMPLE_SIZE: '5', REPLAY_SAMPLE_BASE_URI: 'replay' }).some((p) =>
        p.includes('expected an absolute path, file:///… or gs://bucket/prefix'),
      ),
    );
  });

  it('checks REPLAY_ENDPOINTS: JSON, fields, ratios and endpoint ids', () => {
    assert.ok(
      problemsOf({ REPLAY_ENDPOINTS: '{home' }).some((p) =>
        p.startsWith('REPLAY_ENDPOINTS is not JSON'),
      ),
    );
    assert.ok(
      problemsOf({ REPLAY_ENDPOINTS: '{"home": {"min_overlap": 2}}' }).some((p) =>
        p.startsWith('REPLAY_ENDPOINTS.home.min_overlap'),
      ),
    );
    assert.ok(
      problemsOf({ REPLAY_ENDPOINTS: '{"a/b": {}}' }).some((p) =>
        p.includes('"a/b" is not an endpoint id'),
      ),
    );
  });

  it('gives ann-serving revisions of a sampling endpoint their sample URI, size and interval; never tf-serving', () => {
    const config = loadChainConfig({
      ...BASE_ENV,
      REPLAY_SAMPLE_BASE_URI: '/tmp/rd/replay/',
      REPLAY_PERSIST_INTERVAL_S: '5',
      REPLAY_MIN_OVERLAP: '0.4',
      REPLAY_ENDPOINTS: '{"home": {"sample_size": 300, "min_overlap": 0.6}, "other": {}}',
    });
    assert.deepEqual(config.replay.endpoints.home, { sampleSize: 300, minOverlap: 0.6 });
    assert.deepEqual(config.replay.endpoints.other, { sampleSize: 0, minOverlap: 0.4 });
    const spec = revisionSpecFor(config, run, { runtime: 'ann-serving', mode: 'ann' } as never);
    assert.equal(spec.env.REPLAY_SAMPLE_SIZE, '300');
    assert.equal(spec.env.REPLAY_SAMPLE_URI, `file:///tmp/rd/replay/home/${spec.revision}.json`);
    assert.equal(spec.env.REPLAY_PERSIST_INTERVAL_S, '5');
    assert.equal(replaySampleUri(config.replay, 'other', spec.revision), undefined);
    // Retried deploys ask for the same revision.
    assert.deepEqual(
      revisionSpecFor(config, run, { runtime: 'ann-serving', mode: 'ann' } as never),
      spec,
    );
    const tf = revisionSpecFor(config, run, { runtime: 'tf-serving' } as never);
    assert.equal(tf.env.REPLAY_SAMPLE_URI, undefined);
    // The registry's container describes the model, not a revision: no sample there.
    assert.equal(
      containerEnv(config, run, { runtime: 'ann-serving' } as never).REPLAY_SAMPLE_URI,
      undefined,
    );
  });

  it('keeps gs:// bases as they are', () => {
    const config = loadChainConfig({
      RECDEPLOY_BACKEND: 'gcp',
      GOOGLE_CLOUD_PROJECT: 'my-project',
      REGION: 'europe-west1',
      REPLAY_SAMPLE_SIZE: '2000',
      REPLAY_SAMPLE_BASE_URI: 'gs://p-artifacts/replay/',
    });
    assert.equal(
      replaySampleUri(config.replay, 'home', 'rec-home-00007'),
      'gs://p-artifacts/replay/home/rec-home-00007.json',
    );
  });
});
