/**
 * The top-level cloudbuild.yaml builds every deployable once, in order; each
 * build trigger runs its deployable's config as the build service account and
 * fires for that deployable's files (and shared/, events/ for their users) only.
 */
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { DEPLOYABLES, triggerPathFor } from '../../../deploy/cloudbuild-plan.js';
import {
  read,
  type Trigger,
  configOf,
  globMatches,
  workspaceOf,
  workspaceDependencies,
} from './cloudbuild-files.js';

describe('deploy files', function () {
  describe('cloudbuild.yaml builds everything', function () {
    const top = configOf('cloudbuild.yaml');
    it('has every deployable step once (the job through ann-serving) and installs once', function () {
      const ids = top.steps.map((s) => s.id);
      const expected = [
        'install',
        'typecheck',
        'unit-tests',
        ...DEPLOYABLES.filter((d) => d.id !== 'index-build-job').flatMap((d) =>
          configOf(d.configPath)
            .steps.map((s) => s.id)
            .filter((id) => !['install', 'typecheck', 'unit-tests'].includes(id ?? '')),
        ),
      ];
      assert.deepEqual(ids, expected);
      assert.equal(top.steps.filter((s) => s.args[0] === 'ci').length, 1);
    });

    it('packs functions only after the tests, and starts image builds at once', function () {
      for (const step of top.steps) {
        if (step.args.includes('scripts/pack-function.ts'))
          assert.deepEqual(step.waitFor, ['unit-tests']);
        if (step.args[0] === 'build') assert.deepEqual(step.waitFor, ['-']);
      }
    });
  });

  describe('build triggers', function () {
    const triggers = DEPLOYABLES.map((d) => ({
      deployable: d,
      trigger: parse(read(triggerPathFor(d))) as Trigger,
    }));
    const nodeDeployables = DEPLOYABLES.filter((d) => workspaceOf(d) !== undefined);

    it('run their deployable’s config as the build service account, on pushes to the branch', function () {
      assert.equal(new Set(triggers.map((t) => t.trigger.name)).size, triggers.length);
      for (const { deployable, trigger } of triggers) {
        assert.equal(trigger.filename, deployable.configPath);
        assert.equal(trigger.name, `recdeploy-${deployable.id}`);
        assert.deepEqual(trigger.github, {
          owner: '__GITHUB_OWNER__',
          name: '__GITHUB_REPO__',
          push: { branch: '^__BRANCH__$' },
        });
        assert.equal(
          trigger.serviceAccount,
          'projects/__PROJECT_ID__/serviceAccounts/recdeploy-build@__PROJECT_ID__.iam.gserviceaccount.com',
        );
        assert.deepEqual(
          Object.keys(trigger.substitutions),
          Object.keys(configOf(deployable.configPath).substitutions ?? {}).filter(
            (k) => k === '_REGION',
          ),
        );
      }
    });

    it("cover the deployable's folder, the workspaces it depends on (package.json), and its own config", function () {
      for (const { deployable, trigger } of triggers) {
        assert.ok(
          trigger.includedFiles.some((glob) => globMatches(glob, deployable.configPath)),
          deployable.id,
        );
        const workspace = workspaceOf(deployable);
        if (workspace === undefined) continue;
        for (const dir of [workspace, ...workspaceDependencies(workspace)]) {
          assert.ok(trigger.includedFiles.includes(`${dir}/**`), `${deployable.id}: ${dir}/**`);
        }
        assert.ok(trigger.includedFiles.includes('package-lock.json'), deployable.id);
      }
      assert.ok(
        triggers
          .find((t) => t.deployable.id === 'register')
          ?.trigger.includedFiles.includes('scripts/pack-function.ts'),
      );
    });

    it('fire for their deployable only, and for every user of shared/ and events/', function () {
      const firing = (file: string) =>
        triggers
          .filter((t) => t.trigger.includedFiles.some((glob) => globMatches(glob, file)))
          .map((t) => t.deployable.id)
          .sort();
      assert.deepEqual(firing('functions/register/src/index.ts'), ['register']);
      assert.deepEqual(firing('functions/verify/src/deployment.ts'), ['verify']);
      assert.deepEqual(firing('functions/reconcile/src/index.ts'), ['reconcile']);
      assert.deepEqual(firing('deploy/cloudbuild/function-reconcile.yaml'), ['reconcile']);
      assert.deepEqual(firing('services/ann-serving/src/main.ts'), ['ann-serving']);
      assert.deepEqual(firing('services/dashboard/src/main.ts'), ['dashboard']);
      assert.deepEqual(firing('deploy/tf_serving_native/start.sh'), ['tf-serving-native']);
      assert.deepEqual(firing('deploy/cloudbuild/index-build-job.yaml'), ['index-build-job']);
      const users = nodeDeployables.map((d) => d.id).sort();
      assert.deepEqual(firing('shared/usecases/deploy-run.ts'), users);
      assert.deepEqual(firing('events/training-completed.v1.ts'), users);
      assert.deepEqual(firing('docs/deploy.md'), []);
      assert.ok(globMatches('functions/register/**', 'functions/register/src/deep/file.ts'));
      assert.ok(!globMatches('functions/register/**', 'functions/register-x/a.ts'));
    });
  });
});
