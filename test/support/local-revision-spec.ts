/** A small ann-serving revision for the local serving platform's tests. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RevisionSpec } from '@recdeploy/shared';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs services/ann-serving from its TypeScript source (no build needed), as the tests' platforms do. */
export const ANN_SERVING_SOURCE_COMMAND = {
  command: process.execPath,
  args: [
    '--conditions=source',
    '--import',
    'tsx',
    path.join(REPO_ROOT, 'services/ann-serving/src/main.ts'),
  ],
  cwd: REPO_ROOT,
};

/** Revision `{service}-{suffix}` (tag `run-{suffix}`) serving the bundle in `bundleDir` as model `recs`. */
export function localRevisionSpec(
  service: string,
  suffix: string,
  bundleDir: string,
  overrides: Partial<RevisionSpec> = {},
): RevisionSpec {
  return {
    service,
    revision: `${service}-${suffix}`,
    tag: `run-${suffix}`,
    runtime: 'ann-serving',
    image: 'ann-serving:test',
    env: {
      MODEL_PATH: `file://${bundleDir}`,
      MODEL_NAME: 'recs',
      SHUTDOWN_TIMEOUT_MS: '1000',
    },
    containerPort: 8080,
    startupProbePath: '/v1/models/recs',
    resources: {
      memory: '1Gi',
      cpu: '1',
      minInstances: 0,
      maxInstances: 1,
      timeoutS: 60,
      concurrency: 8,
    },
    public: false,
    labels: { run: suffix },
    ...overrides,
  };
}
