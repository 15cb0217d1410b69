/**
 * The deploy files as Cloud Build and gcloud will read them: every YAML and
 * JSON file in deploy/ and events/ parses; the Cloud Build configs have the
 * schema's essentials and define every substitution they use; they are what
 * the generator writes from the descriptors (no drift); the function deploy
 * commands say what the descriptors say; image, job and topic names are the
 * ones the code's configuration defaults to. The triggers and the top-level
 * cloudbuild.yaml: cloudbuild-triggers.test.ts.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadRuntimeConfig } from '@recdeploy/shared';
import { loadChainConfig } from '@recdeploy/shared/chain';
import { FUNCTION_DEPLOYMENTS } from '../../../deploy/functions.js';
import { DEPLOYABLES, INDEX_BUILD_JOB, triggerPathFor } from '../../../deploy/cloudbuild-plan.js';
import { deadLetterTopicFor } from '../../../deploy/function-deployment.js';
import { renderDeployFiles } from '../../../scripts/generate-cloudbuild.js';
import { envOfFlag } from './gcloud-env-flag.js';
import {
  repoRoot,
  read,
  BUILT_IN,
  CONFIG_KEYS,
  STEP_KEYS,
  files,
  CONFIG_FILES,
  configOf,
  substitutionsUsed,
  flagsOf,
  substitute,
  TRIGGER_SUBS,
  expectedEnv,
  deployStepOf,
} from './cloudbuild-files.js';

describe('deploy files', function () {
  describe('every YAML and JSON file in deploy/ and events/', function () {
    const all = [
      ...files('deploy', /\.(ya?ml|json)$/),
      ...files('events', /\.(ya?ml|json|avsc)$/),
      'cloudbuild.yaml',
    ];
    it('includes the configs, triggers, indexes, schemas and examples', function () {
      for (const expected of [
        'deploy/firestore.indexes.json',
        'deploy/cloudbuild/function-register.yaml',
        'deploy/triggers/register.yaml',
        'deploy/cloudbuild/function-reconcile.yaml',
        'deploy/triggers/reconcile.yaml',
        'deploy/tf_serving_native/cloudbuild.yaml',
        'events/schemas/training-completed.v1.avsc',
        'events/examples/training-completed.v1.json',
      ]) {
        assert.ok(all.includes(expected), expected);
      }
    });
    for (const file of all) {
      it(`parses: ${file}`, function () {
        const text = read(file);
        const value: unknown = /\.ya?ml$/.test(file) ? parse(text) : JSON.parse(text);
        assert.equal(typeof value, 'object');
        assert.notEqual(value, null);
      });
    }
  });

  it('are what scripts/generate-cloudbuild.ts writes from the plan and the descriptors (no drift)', async function () {
    this.timeout(20_000);
    const generated = await renderDeployFiles();
    assert.deepEqual(
      generated.map((f) => f.path).sort(),
      [...CONFIG_FILES, ...DEPLOYABLES.map(triggerPathFor)].sort(),
    );
    for (const file of generated) {
      assert.equal(
        read(file.path),
        file.content,
        `${file.path} is stale: run scripts/generate-cloudbuild.ts`,
      );
    }
    // No trigger file without a deployable.
    assert.deepEqual(files('deploy/triggers', /\.ya?ml$/), DEPLOYABLES.map(triggerPathFor).sort());
  });

  describe('Cloud Build configs', function () {
    for (const file of CONFIG_FILES) {
      it(`${file}: steps with name and args, known keys, ordered waitFor, logging for a service account`, function () {
        const config = configOf(file);
        for (const key of Object.keys(config))
          assert.ok(CONFIG_KEYS.has(key), `${file}: unknown key ${key}`);
        assert.ok(Array.isArray(config.steps) && config.steps.length > 0);
        const seen = new Set<string>();
        for (const step of config.steps) {
          for (const key of Object.keys(step))
            assert.ok(STEP_KEYS.has(key), `${file}: step key ${key}`);
          assert.equal(typeof step.name, 'string');
          assert.ok(
            Array.isArray(step.args) && step.args.every((a) => typeof a === 'string'),
            step.id,
          );
          assert.ok(
            step.id !== undefined && !seen.has(step.id),
            `${file}: step id ${step.id} unique`,
          );
          for (const dependency of step.waitFor ?? []) {
            assert.ok(
              dependency === '-' || seen.has(dependency),
              `${file}: ${step.id} waits for ${dependency}`,
            );
          }
          seen.add(step.id);
        }
        assert.equal(config.options?.logging, 'CLOUD_LOGGING_ONLY');
        assert.match(config.timeout ?? '', /^\d+s$/);
      });

      it(`${file}: every substitution used is built in or defined, and every one defined is used`, function () {
        const config = configOf(file);
        const used = new Set(substitutionsUsed(JSON.stringify(config.steps)));
        const defined = config.substitutions ?? {};
        for (const name of used) {
          assert.ok(BUILT_IN.has(name) || name in defined, `${file}: $${name} is not defined`);
        }
        for (const name of Object.keys(defined)) {
          assert.match(name, /^_[A-Z0-9_]+$/, `${file}: user substitutions start with _`);
          assert.ok(
            used.has(name),
            `${file}: ${name} defined but unused (Cloud Build rejects that)`,
          );
        }
      });
    }
  });

  describe('function configs say what the descriptors say', function () {
    for (const d of FUNCTION_DEPLOYMENTS) {
      it(`deploy/cloudbuild/function-${d.workspace}.yaml ↔ ${d.name}`, function () {
        const config = configOf(`deploy/cloudbuild/function-${d.workspace}.yaml`);
        assert.equal(config.substitutions?._REGION, d.region);
        assert.deepEqual(
          config.steps.slice(0, 3).map((s) => s.id),
          ['install', 'typecheck', 'unit-tests'],
          'installed and tested before it is packed',
        );
        const pack = config.steps.find((s) => s.args.includes('scripts/pack-function.ts'));
        const deploy = config.steps.find(
          (s) => s.args[0] === 'functions' && s.args[1] === 'deploy',
        );
        assert.ok(pack && deploy);
        assert.deepEqual(deploy.args.slice(0, 3), ['functions', 'deploy', d.name]);
        const flags = flagsOf(deploy.args);
        const source = pack.args.at(-1);
        assert.equal(flags.get('source'), source, 'deploys what was packed');
        assert.deepEqual(pack.volumes, deploy.volumes, 'on a volume both steps mount');
        assert.equal(flags.get('gen2'), '');
        assert.equal(flags.get('runtime'), 'nodejs20');
        assert.equal(flags.get('region'), '${_REGION}');
        assert.equal(flags.get('entry-point'), d.entryPoint);
        assert.equal(flags.get('trigger-topic'), d.triggerTopic);
        assert.equal(flags.get('retry'), '');
        assert.equal(flags.get('memory'), d.memory);
        assert.equal(flags.get('timeout'), `${d.timeoutSeconds}s`);
        assert.equal(flags.get('min-instances'), String(d.minInstances));
        assert.equal(flags.get('max-instances'), String(d.maxInstances));
        assert.equal(
          flags.get('service-account'),
          `${d.serviceAccount}@$PROJECT_ID.iam.gserviceaccount.com`,
        );
        assert.equal(flags.get('no-allow-unauthenticated'), '');
        assert.deepEqual(envOfFlag(flags.get('set-env-vars') ?? ''), expectedEnv(d));
        const configure = config.steps.find(
          (s) => s.args[0] === 'deploy/scripts/configure-function-trigger.sh',
        );
        assert.deepEqual(configure?.args.slice(1), [
          d.name,
          '${_REGION}',
          '$PROJECT_ID',
          'recdeploy-trigger@$PROJECT_ID.iam.gserviceaccount.com',
          deadLetterTopicFor(d.triggerTopic),
          String(d.maxDeliveryAttempts),
        ]);
      });
    }

    it('the trigger topics are the topic names of the runtime configuration', function () {
      const topics = loadRuntimeConfig({}).topics;
      assert.deepEqual(
        FUNCTION_DEPLOYMENTS.map((d) => flagsOf(deployStepOf(d).args).get('trigger-topic')),
        [
          topics.trainingCompleted,
          topics.modelRegistered,
          topics.modelDeployed,
          topics.reconcileTick,
        ],
      );
    });
  });

  describe('images, the job and the dashboard', function () {
    const chain = loadChainConfig({
      RECDEPLOY_BACKEND: 'gcp',
      GOOGLE_CLOUD_PROJECT: TRIGGER_SUBS.PROJECT_ID,
      REGION: TRIGGER_SUBS._REGION,
    });
    const registry = chain.images['ann-serving'].replace(/\/ann-serving:latest$/, '');

    it('build and push each image tagged $SHORT_SHA and latest, named as chain-config.ts expects', function () {
      const expected: Record<string, string> = {
        'deploy/cloudbuild/ann-serving.yaml': chain.images['ann-serving'],
        'deploy/tf_serving_native/cloudbuild.yaml': chain.images['tf-serving'],
        'deploy/cloudbuild/dashboard.yaml': `${registry}/dashboard:latest`,
      };
      for (const [file, latest] of Object.entries(expected)) {
        const steps = configOf(file).steps.map((s) => ({
          ...s,
          args: s.args.map((a) => substitute(a, TRIGGER_SUBS)),
        }));
        const build = steps.find((s) => s.args[0] === 'build');
        const push = steps.find((s) => s.args[0] === 'push');
        const image = latest.replace(/:latest$/, '');
        const tags = build?.args.filter((_, i, all) => all[i - 1] === '-t');
        assert.deepEqual(tags, [`${image}:abc1234`, latest], file);
        assert.deepEqual(push?.args, ['push', '--all-tags', image], file);
        assert.ok(
          build?.env?.includes('DOCKER_BUILDKIT=1'),
          `${file}: BuildKit reads <Dockerfile>.dockerignore`,
        );
      }
      for (const dockerfile of [
        'services/ann-serving/Dockerfile',
        'deploy/tf_serving_native/Dockerfile',
      ]) {
        assert.ok(statSync(path.join(repoRoot, dockerfile)).isFile(), dockerfile);
      }
    });

    it('deploy the index-build job the chain runs, on the ann-serving image, running the job script', function () {
      for (const [file, tag] of [
        ['deploy/cloudbuild/ann-serving.yaml', 'abc1234'],
        ['deploy/cloudbuild/index-build-job.yaml', 'latest'],
      ] as const) {
        const step = configOf(file).steps.find(
          (s) => s.args.slice(0, 3).join(' ') === 'run jobs deploy',
        );
        assert.ok(step, file);
        const args = step.args.map((a) => substitute(a, TRIGGER_SUBS));
        assert.equal(args[3], chain.indexBuild.job);
        const flags = flagsOf(args);
        assert.equal(flags.get('image'), chain.images['ann-serving'].replace(/latest$/, tag));
        assert.equal(flags.get('command'), 'node');
        assert.equal(flags.get('args'), INDEX_BUILD_JOB.script);
        assert.equal(
          flags.get('service-account'),
          `${INDEX_BUILD_JOB.serviceAccount}@recs-project.iam.gserviceaccount.com`,
        );
        assert.equal(
          flags.get('set-env-vars'),
          'RECDEPLOY_BACKEND=gcp,GOOGLE_CLOUD_PROJECT=recs-project,REGION=europe-west1,LOG_LEVEL=info',
        );
      }
      const script = INDEX_BUILD_JOB.script.replace(
        /^services\/ann-serving\/dist\/src\/(.*)\.js$/,
        'services/ann-serving/src/$1.ts',
      );
      assert.ok(
        statSync(path.join(repoRoot, script)).isFile(),
        `${script} is what compiles to the job script`,
      );
    });

    it('keep the dashboard private', function () {
      const step = configOf('deploy/cloudbuild/dashboard.yaml').steps.find(
        (s) => s.args.slice(0, 2).join(' ') === 'run deploy',
      );
      const flags = flagsOf(step?.args ?? []);
      assert.equal(flags.get('no-allow-unauthenticated'), '');
      assert.ok(!flags.has('allow-unauthenticated'));
    });
  });
});
