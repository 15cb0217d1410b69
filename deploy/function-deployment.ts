/**
 * The deploy settings of a recdeploy function, and what they become: the
 * `gcloud functions deploy` arguments. Each function keeps its settings in a
 * typed descriptor beside its handler (`functions/<name>/src/deployment.ts`;
 * the type lives in @recdeploy/shared so the handlers' workspaces can use it). The Cloud Build configs are generated from the descriptors
 * (scripts/generate-cloudbuild.ts), so code and deployment cannot drift.
 */

import { DEPLOY_PLACEHOLDERS, type FunctionDeployment } from '@recdeploy/shared';

export { DEPLOY_PLACEHOLDERS, type FunctionDeployment };

/** Cloud Functions' limit for event-driven functions, in seconds. */
export const EVENT_FUNCTION_MAX_TIMEOUT_S = 540;

/** The Eventarc trigger's subscription dead-letters to this topic. */
export function deadLetterTopicFor(topic: string): string {
  return `${topic}-dead-letter`;
}

/** The identity Eventarc uses to push to every recdeploy function (run.invoker on each). */
export const TRIGGER_SERVICE_ACCOUNT = 'recdeploy-trigger';

/** The service account Cloud Build deploys with (and Cloud Functions builds with). */
export const BUILD_SERVICE_ACCOUNT = 'recdeploy-build';

/** The e-mail of a service account id in a project (placeholders allowed). */
export function serviceAccountEmail(accountId: string, project: string): string {
  return `${accountId}@${project}.iam.gserviceaccount.com`;
}

/** Every problem with a descriptor, each naming the field and the value (empty when valid). */
export function problemsOf(d: FunctionDeployment): string[] {
  const problems: string[] = [];
  const where = `function ${d.name}`;
  if (!/^[a-z][a-z0-9-]{0,61}[a-z0-9]$/.test(d.name))
    problems.push(`${where}: name must be lowercase letters, digits and "-" (got "${d.name}")`);
  if (d.timeoutSeconds < 1 || d.timeoutSeconds > EVENT_FUNCTION_MAX_TIMEOUT_S)
    problems.push(
      `${where}: timeoutSeconds must be 1–${EVENT_FUNCTION_MAX_TIMEOUT_S} (got ${d.timeoutSeconds})`,
    );
  if (!/^[1-9][0-9]*(Mi|Gi)$/.test(d.memory))
    problems.push(`${where}: memory must look like 512Mi or 2Gi (got "${d.memory}")`);
  if (!Number.isInteger(d.minInstances) || d.minInstances < 0)
    problems.push(`${where}: minInstances must be an integer ≥ 0 (got ${d.minInstances})`);
  if (!Number.isInteger(d.maxInstances) || d.maxInstances < Math.max(1, d.minInstances))
    problems.push(
      `${where}: maxInstances must be an integer ≥ max(1, minInstances) (got ${d.maxInstances})`,
    );
  if (d.maxDeliveryAttempts < 5 || d.maxDeliveryAttempts > 100)
    problems.push(`${where}: maxDeliveryAttempts must be 5–100 (got ${d.maxDeliveryAttempts})`);
  if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(d.serviceAccount))
    problems.push(`${where}: serviceAccount "${d.serviceAccount}" is not a service account id`);
  for (const [key, value] of Object.entries(d.env)) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(key)) problems.push(`${where}: env name "${key}" is not valid`);
    // A placeholder we do not know would reach the function as is.
    const unknown = (value.match(/\{[a-z]+\}/g) ?? []).filter(
      (p) => !Object.values<string>(DEPLOY_PLACEHOLDERS).includes(p),
    );
    if (unknown.length > 0)
      problems.push(`${where}: env ${key} uses unknown placeholder(s) ${unknown.join(', ')}`);
  }
  if (envFlagValue(envPairs(d)) === undefined) {
    problems.push(
      `${where}: env values hold commas and every other delimiter gcloud could split on (${ENV_DELIMITERS.join(' ')})`,
    );
  }
  return problems;
}

/** Delimiters tried, in order, when an env value holds a comma (JSON such as DEPLOY_ENDPOINTS). */
export const ENV_DELIMITERS = ['|', '@', '~', '#', '%'] as const;

/**
 * The value of `--set-env-vars` for `KEY=value` pairs: joined by commas, or,
 * when a value holds a comma, by the first of {@link ENV_DELIMITERS} no pair
 * holds, announced gcloud's way (`^|^A=x,y|B=z`; `gcloud topic escaping`,
 * https://cloud.google.com/sdk/gcloud/reference/topic/escaping). Undefined
 * when every delimiter occurs in some pair.
 */
export function envFlagValue(pairs: readonly string[]): string | undefined {
  if (!pairs.some((pair) => pair.includes(','))) return pairs.join(',');
  const delimiter = ENV_DELIMITERS.find((d) => !pairs.some((pair) => pair.includes(d)));
  return delimiter === undefined ? undefined : `^${delimiter}^${pairs.join(delimiter)}`;
}

/** `KEY=value` for each variable of a descriptor, sorted by name. */
function envPairs(
  d: FunctionDeployment,
  fill: (text: string) => string = (text) => text,
): string[] {
  return Object.keys(d.env)
    .sort()
    .map((key) => `${key}=${fill(d.env[key] ?? '')}`);
}

/** How placeholders are written in the deploy command (Cloud Build substitutions). */
export interface PlaceholderValues {
  readonly project: string;
  readonly region: string;
}

/** The `gcloud functions deploy` arguments (after `gcloud`) for a descriptor and a packed source. */
export function gcloudDeployArgs(
  d: FunctionDeployment,
  source: string,
  values: PlaceholderValues,
): string[] {
  const fill = (text: string) =>
    text
      .replaceAll(DEPLOY_PLACEHOLDERS.project, values.project)
      .replaceAll(DEPLOY_PLACEHOLDERS.region, values.region);
  const runtimeAccount = serviceAccountEmail(d.serviceAccount, values.project);
  const env = envFlagValue(envPairs(d, fill));
  if (env === undefined) throw new Error(problemsOf(d).join('; '));
  return [
    'functions',
    'deploy',
    d.name,
    '--gen2',
    '--runtime=nodejs20',
    `--region=${values.region}`,
    `--source=${source}`,
    `--entry-point=${d.entryPoint}`,
    `--trigger-topic=${d.triggerTopic}`,
    ...(d.retry ? ['--retry'] : []),
    `--service-account=${runtimeAccount}`,
    `--trigger-service-account=${serviceAccountEmail(TRIGGER_SERVICE_ACCOUNT, values.project)}`,
    `--build-service-account=projects/${values.project}/serviceAccounts/${serviceAccountEmail(BUILD_SERVICE_ACCOUNT, values.project)}`,
    `--memory=${d.memory}`,
    `--timeout=${d.timeoutSeconds}s`,
    `--min-instances=${d.minInstances}`,
    `--max-instances=${d.maxInstances}`,
    // Only Eventarc (with the trigger identity) calls the function.
    '--ingress-settings=internal-only',
    '--no-allow-unauthenticated',
    `--set-env-vars=${env}`,
  ];
}
