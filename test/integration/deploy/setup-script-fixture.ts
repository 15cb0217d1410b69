/**
 * What the setup-script-*.test.ts files share: deploy/setup.sh run twice by
 * bash against the recording gcloud of setup-bench.ts (the second run also
 * lets the deploy function make public services), and the topic names of the
 * runtime configuration's defaults.
 */
import { loadRuntimeConfig } from '@recdeploy/shared';
import { BUCKET, PROJECT, REGION, SetupBench, type SetupRun } from './setup-bench.js';

export const topics = loadRuntimeConfig({}).topics;

export interface SetupScriptRuns {
  readonly bench: SetupBench;
  readonly first: SetupRun;
  readonly second: SetupRun;
}

/**
 * Registers the hooks that run setup.sh twice (before) and remove the bench
 * (after); call it inside a describe. The returned function answers the runs
 * from `before` on.
 */
export function setupScriptRuns(): () => SetupScriptRuns {
  let bench: SetupBench | undefined;
  let first: SetupRun;
  let second: SetupRun;

  const inputs = {
    PROJECT,
    REGION,
    MODEL_BUCKET: `gs://${BUCKET}/`,
    GITHUB_OWNER: 'acme',
    GITHUB_REPO: 'recs',
  };

  before(async function () {
    bench = await SetupBench.create();
    first = await bench.run(inputs);
    // The second run also lets the deploy function make public services.
    second = await bench.run({ ...inputs, DEPLOY_ALLOW_PUBLIC: 'true' });
  });

  after(async function () {
    await bench?.remove();
  });

  return () => ({ bench: bench!, first, second });
}
