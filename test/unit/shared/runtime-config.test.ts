import assert from 'node:assert/strict';
import { ConfigError, loadRuntimeConfig } from '@recdeploy/shared';

function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('loadRuntimeConfig', () => {
  it('runs on the embedded defaults with an empty environment', () => {
    const config = loadRuntimeConfig({});
    assert.equal(config.backend, 'local');
    assert.equal(config.backend === 'local' && config.dataDir, '.recdeploy');
    assert.equal(config.collection, 'deployments');
    assert.deepEqual(config.topics, {
      trainingCompleted: 'training-completed',
      modelRegistered: 'model-registered',
      modelDeployed: 'model-deployed',
      deploymentFinished: 'deployment-finished',
      freshnessAlert: 'freshness-alerts',
      reconcileTick: 'reconcile-tick',
    });
    assert.ok(Object.isFrozen(config));
  });

  it('reads the gcp backend with its project and trims values', () => {
    const config = loadRuntimeConfig({
      RECDEPLOY_BACKEND: ' gcp ',
      GOOGLE_CLOUD_PROJECT: 'my-project-123',
      REGION: 'europe-west4',
      TOPIC_TRAINING_COMPLETED: 'tc-topic',
    });
    assert.equal(config.backend, 'gcp');
    assert.equal(config.backend === 'gcp' && config.projectId, 'my-project-123');
    assert.equal(config.region, 'europe-west4');
    assert.equal(config.topics.trainingCompleted, 'tc-topic');
  });

  it('treats an empty value as unset', () => {
    assert.equal(loadRuntimeConfig({ REGION: '' }).region, 'us-central1');
  });

  it('lists every invalid key at once, naming the value and what was expected', () => {
    const problems = problemsOf(() =>
      loadRuntimeConfig({ RECDEPLOY_BACKEND: 'aws', REGION: 'moon', LOG_LEVEL: 'loud' }),
    );
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.ok(
      problems.some((p) => p.startsWith('RECDEPLOY_BACKEND="aws"') && p.includes('local, gcp')),
    );
    assert.ok(problems.some((p) => p.startsWith('REGION="moon"')));
    assert.ok(problems.some((p) => p.startsWith('LOG_LEVEL="loud"') && p.includes('debug, info')));
  });

  it('requires a project for the gcp backend', () => {
    const problems = problemsOf(() => loadRuntimeConfig({ RECDEPLOY_BACKEND: 'gcp' }));
    assert.deepEqual(problems, ['GOOGLE_CLOUD_PROJECT is required when RECDEPLOY_BACKEND=gcp']);
  });

  it('ignores variables it does not declare', () => {
    assert.doesNotThrow(() => loadRuntimeConfig({ PATH: '/bin', UNRELATED: 'x' }));
  });
});
