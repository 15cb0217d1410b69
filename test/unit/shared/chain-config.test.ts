import assert from 'node:assert/strict';
import path from 'node:path';
import { ConfigError } from '@recdeploy/shared';
import { loadChainConfig } from '@recdeploy/shared/chain';

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadChainConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('chain configuration', () => {
  it('defaults to the seed policy, local images and the data dir as the only artifact root', () => {
    const config = loadChainConfig({ RECDEPLOY_DATA_DIR: '/tmp/rd' });
    assert.equal(config.blessingPolicy, 'register-all-deploy-blessed');
    assert.equal(config.servicePrefix, 'rec-');
    assert.equal(config.modelName, 'recommender');
    assert.deepEqual(config.artifactRoots, ['/tmp/rd']);
    assert.equal(config.images['ann-serving'], 'local/recdeploy/ann-serving:latest');
    assert.equal(config.indexBuild.inlineMaxSeconds, 240);
    assert.equal(config.verification.minRecall, 0.9);
  });

  it('derives cloud image names from the project and region (the deploy/ repository)', () => {
    const config = loadChainConfig({
      RECDEPLOY_BACKEND: 'gcp',
      GOOGLE_CLOUD_PROJECT: 'my-project',
      REGION: 'europe-west1',
    });
    assert.equal(
      config.images['tf-serving'],
      'europe-west1-docker.pkg.dev/my-project/recdeploy/tf-serving-native:latest',
    );
    assert.deepEqual(config.artifactRoots, []);
  });

  it('reads explicit values: images, roots (comma separated, resolved), thresholds', () => {
    const config = loadChainConfig({
      ANN_SERVING_IMAGE: 'eu.gcr.io/p/ann:1',
      ARTIFACT_ROOTS: ' models , /srv/bundles ',
      VERIFY_LATENCY_P99_MS: '250',
      BLESSING_POLICY: 'deploy-all',
    });
    assert.equal(config.images['ann-serving'], 'eu.gcr.io/p/ann:1');
    assert.deepEqual(config.artifactRoots, [path.resolve('models'), '/srv/bundles']);
    assert.equal(config.verification.latencyP99BudgetMs, 250);
    assert.equal(config.blessingPolicy, 'deploy-all');
  });

  it('lists every bad variable at once', () => {
    const problems = problemsOf({
      BLESSING_POLICY: 'sometimes',
      VERIFY_MIN_RECALL: '1.5',
      SERVICE_PREFIX: 'Bad_Prefix',
    });
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(
      problems.join('\n'),
      /BLESSING_POLICY="sometimes" is invalid: expected one of register-all-deploy-blessed, blessed-only, deploy-all/,
    );
    assert.match(
      problems.join('\n'),
      /VERIFY_MIN_RECALL="?1\.5"? is invalid: Expected number to be less or equal to 1/,
    );
    assert.match(problems.join('\n'), /SERVICE_PREFIX="Bad_Prefix"/);
  });

  it('refuses a readiness wait as long as the checks budget that includes it', () => {
    assert.equal(loadChainConfig({}).verification.checksTimeoutMs, 300_000);
    assert.deepEqual(
      problemsOf({ VERIFY_READY_TIMEOUT_MS: '300000', VERIFY_CHECKS_TIMEOUT_MS: '300000' }),
      [
        'VERIFY_READY_TIMEOUT_MS (300000) must be less than VERIFY_CHECKS_TIMEOUT_MS (300000), the budget of all checks, which includes the readiness wait',
      ],
    );
  });
});
