/**
 * What the setup-script-*.test.ts files share: deploy/setup.sh run twice by
 * bash against the recording gcloud of setup-bench.ts (the second run also
 * lets the deploy function make public services), and the topic names of the
 * runtime configuration's defaults.
 */
import { loadRuntimeConfig } from '@recdeploy/shared';
import { ChainEnvSchema } from '@recdeploy/shared/chain';
import { BUCKET, PROJECT, REGION, SetupBench, flagOf, type SetupRun } from './setup-bench.js';

export const topics = loadRuntimeConfig({}).topics;

/** Where the functions' serving services live: `{SERVICE_PREFIX}{endpoint}` (the chain's default prefix). */
export const SERVING_SERVICES = `projects/${PROJECT}/locations/${REGION}/services/${ChainEnvSchema.properties.SERVICE_PREFIX.default}`;

/** The `--condition` expression of every project binding of `role` to `member`. */
export function projectConditionsOf(run: SetupRun, member: string, role: string): string[] {
  return run.calls
    .filter(
      (c) =>
        c[0] === 'projects' &&
        c[1] === 'add-iam-policy-binding' &&
        c.includes(`--member=${member}`) &&
        c.includes(`--role=${role}`),
    )
    .map((c) => /expression=([^,]*)/.exec(flagOf(c, 'condition') ?? '')?.[1] ?? 'None');
}

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
