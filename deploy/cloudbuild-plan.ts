/**
 * What Cloud Build does for each deployable, as data: the functions' steps
 * come from their descriptors (functions/<name>/src/deployment.ts), image
 * names from the Artifact Registry layout the chain's configuration expects
 * (shared/config/chain-config.ts). scripts/generate-cloudbuild.ts writes one
 * config per deployable, the top-level cloudbuild.yaml that builds everything,
 * and one build trigger per deployable, filtered by the files it is built from.
 */
import { FUNCTION_DEPLOYMENTS } from './functions.js';
import {
  BUILD_SERVICE_ACCOUNT,
  TRIGGER_SERVICE_ACCOUNT,
  deadLetterTopicFor,
  gcloudDeployArgs,
  serviceAccountEmail,
  type FunctionDeployment,
} from './function-deployment.js';

/** One Cloud Build step (https://cloud.google.com/build/docs/build-config-file-schema). */
export interface BuildStep {
  readonly id: string;
  readonly name: string;
  readonly entrypoint?: string;
  readonly args: readonly string[];
  readonly env?: readonly string[];
  readonly waitFor?: readonly string[];
  readonly volumes?: readonly { readonly name: string; readonly path: string }[];
}

export interface BuildConfig {
  readonly steps: readonly BuildStep[];
  readonly substitutions: Readonly<Record<string, string>>;
  readonly timeout: string;
  readonly options: Readonly<Record<string, unknown>>;
}

export interface Deployable {
  /** Short id: step-id prefix, trigger name suffix. */
  readonly id: string;
  readonly description: string;
  /** Where its Cloud Build config is written, relative to the repository root. */
  readonly configPath: string;
  /** Globs whose change rebuilds it (the build trigger's includedFiles). */
  readonly includedFiles: readonly string[];
  /** Steps that need the shared npm install and tests first (functions only). */
  readonly needsPreparedWorkspace: boolean;
  /** Its own steps, after the shared preparation when it needs it. */
  readonly steps: readonly BuildStep[];
}

export const NODE_BUILDER = 'node:20.19-bookworm';
export const GCLOUD_BUILDER = 'gcr.io/google.com/cloudsdktool/cloud-sdk:slim';
export const DOCKER_BUILDER = 'gcr.io/cloud-builders/docker';

/** Cloud Build substitutions (built-in `$PROJECT_ID`, `$SHORT_SHA`; ours start with `_`). */
export const SUB = {
  project: '$PROJECT_ID',
  shortSha: '$SHORT_SHA',
  region: '${_REGION}',
  imageTag: '${_IMAGE_TAG}',
} as const;

/** The Artifact Registry repository chain-config.ts's default image names point into. */
export const ARTIFACT_REPOSITORY = 'recdeploy';

/** `{REGION}-docker.pkg.dev/{project}/recdeploy/{name}` with Cloud Build substitutions. */
export function imageName(name: string): string {
  return `${SUB.region}-docker.pkg.dev/${SUB.project}/${ARTIFACT_REPOSITORY}/${name}`;
}

export const IMAGES = {
  annServing: 'ann-serving',
  tfServingNative: 'tf-serving-native',
  dashboard: 'dashboard',
} as const;

/** The index-build Cloud Run job (INDEX_BUILD_JOB's default) and how it runs. */
export const INDEX_BUILD_JOB = {
  name: 'recdeploy-build-index',
  serviceAccount: 'recdeploy-index-build',
  command: 'node',
  script: 'services/ann-serving/dist/src/index-build-job.js',
  memory: '8Gi',
  cpu: '4',
  taskTimeoutSeconds: 3600,
  // The deploy step never restarts a failed build: one retry inside the execution.
  maxRetries: 1,
} as const;

export const DASHBOARD_SERVICE = {
  name: 'recdeploy-dashboard',
  serviceAccount: 'recdeploy-dashboard',
  memory: '512Mi',
  cpu: '1',
  maxInstances: 2,
  // Server-sent events keep a request open; Cloud Run's limit is 60 min.
  timeoutSeconds: 3600,
} as const;

/** The runtime identity of serving revisions (SERVING_SERVICE_ACCOUNT of the deploy function). */
export const SERVING_SERVICE_ACCOUNT = 'recdeploy-serving';

const PACKS_VOLUME = { name: 'packs', path: '/packs' } as const;

/** Every build touches these: a change to them rebuilds every Node deployable. */
const NODE_WORKSPACE_FILES = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.base.json',
] as const;

/** Shared by the functions: install, typecheck, unit tests (once per build). */
export const PREPARE_STEPS: readonly BuildStep[] = [
  {
    id: 'install',
    name: NODE_BUILDER,
    entrypoint: 'npm',
    args: ['ci', '--no-audit', '--no-fund'],
  },
  { id: 'typecheck', name: NODE_BUILDER, entrypoint: 'npm', args: ['run', 'typecheck'] },
  {
    id: 'unit-tests',
    name: NODE_BUILDER,
    entrypoint: 'bash',
    // The unit tier shellchecks the deploy scripts: the node image has no shellcheck.
    args: [
      '-c',
      'apt-get update -qq && apt-get install -y -qq --no-install-recommends shellcheck >/dev/null ' +
        "&& npx mocha 'test/unit/**/*.test.ts'",
    ],
  },
];

const runtimeEnv = (extra: Readonly<Record<string, string>> = {}) =>
  Object.entries({
    RECDEPLOY_BACKEND: 'gcp',
    GOOGLE_CLOUD_PROJECT: SUB.project,
    REGION: SUB.region,
    LOG_LEVEL: 'info',
    ...extra,
  })
    .map(([key, value]) => `${key}=${value}`)
    .join(',');

function functionDeployable(d: FunctionDeployment): Deployable {
  const id = d.workspace;
  const packDir = `${PACKS_VOLUME.path}/${d.workspace}`;
  return {
    id,
    description: `functions/${d.workspace}: pack and deploy ${d.name} (Cloud Functions 2nd gen)`,
    configPath: `deploy/cloudbuild/function-${d.workspace}.yaml`,
    includedFiles: [
      `functions/${d.workspace}/**`,
      'shared/**',
      'events/**',
      ...NODE_WORKSPACE_FILES,
      'scripts/pack-function.ts',
      'deploy/scripts/configure-function-trigger.sh',
      `deploy/cloudbuild/function-${d.workspace}.yaml`,
    ],
    needsPreparedWorkspace: true,
    steps: [
      {
        id: `${id}:pack`,
        name: NODE_BUILDER,
        entrypoint: 'npx',
        args: ['tsx', '--conditions=source', 'scripts/pack-function.ts', d.workspace, packDir],
        volumes: [PACKS_VOLUME],
      },
      {
        id: `${id}:deploy`,
        name: GCLOUD_BUILDER,
        entrypoint: 'gcloud',
        args: gcloudDeployArgs(d, packDir, { project: SUB.project, region: SUB.region }),
        volumes: [PACKS_VOLUME],
      },
      {
        id: `${id}:configure-trigger`,
        name: GCLOUD_BUILDER,
        entrypoint: 'bash',
        args: [
          'deploy/scripts/configure-function-trigger.sh',
          d.name,
          SUB.region,
          SUB.project,
          serviceAccountEmail(TRIGGER_SERVICE_ACCOUNT, SUB.project),
          deadLetterTopicFor(d.triggerTopic),
          String(d.maxDeliveryAttempts),
        ],
      },
    ],
  };
}

/** `docker build` tagged `$SHORT_SHA` and `latest`, then both tags pushed. */
function imageSteps(id: string, image: string, dockerfile: string, context: string): BuildStep[] {
  return [
    {
      id: `${id}:build`,
      name: DOCKER_BUILDER,
      args: [
        'build',
        '-f',
        dockerfile,
        '-t',
        `${imageName(image)}:${SUB.shortSha}`,
        '-t',
        `${imageName(image)}:latest`,
        context,
      ],
      // The Dockerfiles read <Dockerfile>.dockerignore, a BuildKit feature.
      env: ['DOCKER_BUILDKIT=1'],
    },
    {
      id: `${id}:push`,
      name: DOCKER_BUILDER,
      args: ['push', '--all-tags', imageName(image)],
    },
  ];
}

/** `gcloud run jobs deploy` of the index-build job (creates or updates it). */
export function indexBuildJobStep(id: string, tag: string): BuildStep {
  const job = INDEX_BUILD_JOB;
  return {
    id,
    name: GCLOUD_BUILDER,
    entrypoint: 'gcloud',
    args: [
      'run',
      'jobs',
      'deploy',
      job.name,
      `--image=${imageName(IMAGES.annServing)}:${tag}`,
      `--region=${SUB.region}`,
      `--command=${job.command}`,
      `--args=${job.script}`,
      `--service-account=${serviceAccountEmail(job.serviceAccount, SUB.project)}`,
      '--tasks=1',
      `--max-retries=${job.maxRetries}`,
      `--task-timeout=${job.taskTimeoutSeconds}s`,
      `--memory=${job.memory}`,
      `--cpu=${job.cpu}`,
      `--set-env-vars=${runtimeEnv()}`,
    ],
  };
}

const annServing: Deployable = {
  id: 'ann-serving',
  description:
    'services/ann-serving: image (tagged $SHORT_SHA and latest) and the index-build job on it',
  configPath: 'deploy/cloudbuild/ann-serving.yaml',
  includedFiles: [
    'services/ann-serving/**',
    'shared/**',
    'events/**',
    ...NODE_WORKSPACE_FILES,
    'deploy/cloudbuild/ann-serving.yaml',
  ],
  needsPreparedWorkspace: false,
  steps: [
    ...imageSteps('ann-serving', IMAGES.annServing, 'services/ann-serving/Dockerfile', '.'),
    // The job runs this image: move it to the new build.
    indexBuildJobStep('ann-serving:index-build-job', SUB.shortSha),
  ],
};

const indexBuildJob: Deployable = {
  id: 'index-build-job',
  description: `the ${INDEX_BUILD_JOB.name} Cloud Run job on the ann-serving image tagged \${_IMAGE_TAG}`,
  configPath: 'deploy/cloudbuild/index-build-job.yaml',
  // Its image is built by ann-serving's config, which also updates the job.
  includedFiles: ['deploy/cloudbuild/index-build-job.yaml'],
  needsPreparedWorkspace: false,
  steps: [indexBuildJobStep('index-build-job:deploy', SUB.imageTag)],
};

const dashboard: Deployable = {
  id: 'dashboard',
  description: `services/dashboard: image (tagged $SHORT_SHA and latest) and the private ${DASHBOARD_SERVICE.name} Cloud Run service`,
  configPath: 'deploy/cloudbuild/dashboard.yaml',
  includedFiles: [
    'services/dashboard/**',
    'shared/**',
    'events/**',
    ...NODE_WORKSPACE_FILES,
    'deploy/cloudbuild/dashboard.yaml',
  ],
  needsPreparedWorkspace: false,
  steps: [
    ...imageSteps('dashboard', IMAGES.dashboard, 'services/dashboard/Dockerfile', '.'),
    {
      id: 'dashboard:deploy',
      name: GCLOUD_BUILDER,
      entrypoint: 'gcloud',
      args: [
        'run',
        'deploy',
        DASHBOARD_SERVICE.name,
        `--image=${imageName(IMAGES.dashboard)}:${SUB.shortSha}`,
        `--region=${SUB.region}`,
        `--service-account=${serviceAccountEmail(DASHBOARD_SERVICE.serviceAccount, SUB.project)}`,
        // Private: only principals with run.invoker (e.g. through `gcloud run services proxy`).
        '--no-allow-unauthenticated',
        `--memory=${DASHBOARD_SERVICE.memory}`,
        `--cpu=${DASHBOARD_SERVICE.cpu}`,
        '--min-instances=0',
        `--max-instances=${DASHBOARD_SERVICE.maxInstances}`,
        `--timeout=${DASHBOARD_SERVICE.timeoutSeconds}`,
        `--set-env-vars=${runtimeEnv()}`,
      ],
    },
  ],
};

const tfServingNative: Deployable = {
  id: 'tf-serving-native',
  description:
    'deploy/tf_serving_native: the native TF Serving image (tagged $SHORT_SHA and latest)',
  configPath: 'deploy/tf_serving_native/cloudbuild.yaml',
  includedFiles: ['deploy/tf_serving_native/**'],
  needsPreparedWorkspace: false,
  steps: imageSteps(
    'tf-serving-native',
    IMAGES.tfServingNative,
    'deploy/tf_serving_native/Dockerfile',
    'deploy/tf_serving_native',
  ),
};

export const DEPLOYABLES: readonly Deployable[] = [
  ...FUNCTION_DEPLOYMENTS.map(functionDeployable),
  annServing,
  indexBuildJob,
  dashboard,
  tfServingNative,
];

/** The region every config defaults to: the functions' (they must all agree). */
export function defaultRegion(): string {
  const regions = new Set(FUNCTION_DEPLOYMENTS.map((d) => d.region));
  const [region] = regions;
  if (regions.size !== 1 || region === undefined) {
    throw new Error(`the function descriptors name different regions: ${[...regions].join(', ')}`);
  }
  return region;
}

const BUILD_OPTIONS = {
  // Required when a trigger runs the build as a user-managed service account.
  logging: 'CLOUD_LOGGING_ONLY',
};

/** The Cloud Build config of one deployable (what its trigger runs). */
export function configFor(deployable: Deployable): BuildConfig {
  const steps = deployable.needsPreparedWorkspace
    ? [...PREPARE_STEPS, ...deployable.steps]
    : deployable.steps;
  return {
    steps,
    substitutions: substitutionsFor(steps),
    timeout: '3600s',
    options: BUILD_OPTIONS,
  };
}

/**
 * The top-level build: everything at once. The functions share one install
 * and test run, then pack and deploy side by side; the images build in
 * parallel from the start; a deployable's own steps stay in order.
 */
export function topLevelConfig(): BuildConfig {
  const prepared = PREPARE_STEPS.map((step, i) => ({
    ...step,
    waitFor: i === 0 ? ['-'] : [PREPARE_STEPS[i - 1]?.id ?? '-'],
  }));
  const lastPrepare = PREPARE_STEPS.at(-1)?.id ?? '-';
  const steps: BuildStep[] = [...prepared];
  for (const deployable of DEPLOYABLES) {
    // The standalone job config would race ann-serving's job update; ann-serving does it.
    if (deployable.id === indexBuildJob.id) continue;
    deployable.steps.forEach((step, i) => {
      const previous = deployable.steps[i - 1]?.id;
      const first = deployable.needsPreparedWorkspace ? lastPrepare : '-';
      steps.push({ ...step, waitFor: [previous ?? first] });
    });
  }
  return {
    steps,
    substitutions: substitutionsFor(steps),
    timeout: '3600s',
    options: { ...BUILD_OPTIONS, machineType: 'E2_HIGHCPU_8' },
  };
}

/** Our substitutions with their defaults, for those the steps use. */
function substitutionsFor(steps: readonly BuildStep[]): Record<string, string> {
  const text = JSON.stringify(steps);
  const all: Record<string, string> = { _REGION: defaultRegion(), _IMAGE_TAG: 'latest' };
  return Object.fromEntries(Object.entries(all).filter(([key]) => text.includes(`\${${key}}`)));
}

/** Trigger placeholders setup.sh fills in before `gcloud builds triggers import`. */
export const TRIGGER_PLACEHOLDERS = {
  project: '__PROJECT_ID__',
  region: '__REGION__',
  owner: '__GITHUB_OWNER__',
  repo: '__GITHUB_REPO__',
  branch: '__BRANCH__',
} as const;

/** A BuildTrigger resource (https://cloud.google.com/build/docs/api/reference/rest/v1/projects.triggers). */
export function triggerFor(deployable: Deployable): Record<string, unknown> {
  const p = TRIGGER_PLACEHOLDERS;
  return {
    name: `recdeploy-${deployable.id}`,
    description: deployable.description,
    github: { owner: p.owner, name: p.repo, push: { branch: `^${p.branch}$` } },
    filename: deployable.configPath,
    includedFiles: deployable.includedFiles,
    substitutions: { _REGION: p.region },
    serviceAccount: `projects/${p.project}/serviceAccounts/${serviceAccountEmail(BUILD_SERVICE_ACCOUNT, p.project)}`,
  };
}

/** The trigger file of a deployable, relative to the repository root. */
export function triggerPathFor(deployable: Deployable): string {
  return `deploy/triggers/${deployable.id}.yaml`;
}
