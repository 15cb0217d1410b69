/**
 * The operator's bounds on what a run may ask for in `deployment_config`
 * (docs/architecture.md "Deployment policy"). Whoever can publish
 * training-completed can write any value the event schema allows (a public
 * service, 1,000 instances); the chain's configuration, not the message,
 * decides what is deployed. A run beyond the policy is refused with every
 * reason named, never silently clamped.
 */
import { PermanentError } from '../errors.js';
import type { DeploymentConfig } from './run-document.js';
import { cpuMillis, memoryBytes } from './resource-quantities.js';

/** What a revision is deployed with: the run's `deployment_config` over the defaults. */
export interface ServingSettings {
  readonly memory: string;
  readonly cpu: string;
  readonly minInstances: number;
  readonly maxInstances: number;
  /** Request timeout in seconds. */
  readonly timeoutS: number;
  /** Concurrent requests per instance. */
  readonly concurrency: number;
}

/** The seed platform's Cloud Run defaults (issue 4): 4Gi, 2 CPU, 0–10 instances, 300 s, 80. */
export const DEFAULT_RESOURCES: ServingSettings = {
  memory: '4Gi',
  cpu: '2',
  minInstances: 0,
  maxInstances: 10,
  timeoutS: 300,
  concurrency: 80,
};

/**
 * The limits of one endpoint (or of every endpoint without limits of its own):
 * the largest settings a run may ask for (memory and CPU as Cloud Run quantities).
 */
export interface DeploymentLimits extends ServingSettings {
  /** Whether `deployment_config.public` may be true (an unauthenticated service). */
  readonly allowPublic: boolean;
  /** Where each limit is set (`DEPLOY_MAX_INSTANCES_LIMIT=20`), so a refusal says what to change. */
  readonly setBy: Readonly<Record<LimitName, string>>;
}

export type LimitName = Exclude<keyof DeploymentLimits, 'setBy'>;

/** The operator's deployment policy (DEPLOY_* variables, deployment-policy-config.ts). */
export interface DeploymentPolicy {
  /** The limits of endpoints without limits of their own. */
  readonly defaultLimits: DeploymentLimits;
  /** Limits of named model endpoints (DEPLOY_ENDPOINTS). */
  readonly endpointLimits: Readonly<Record<string, DeploymentLimits>>;
}

/** One part of a run's serving settings outside its endpoint's limits. */
export interface PolicyViolation {
  /** The `deployment_config` field, e.g. `max_instances`. */
  readonly field: string;
  readonly asked: string | number | boolean;
  readonly limit: string | number | boolean;
  /** The setting that sets the limit, with its value. */
  readonly setBy: string;
  /** One sentence a person understands. */
  readonly reason: string;
}

type ResourceName = Exclude<LimitName, 'allowPublic'>;

/**
 * Each bounded resource: its `deployment_config` field and its size for a
 * comparison (Cloud Run quantities by value: `8192Mi` is `8Gi`).
 */
const RESOURCES: readonly {
  readonly name: ResourceName;
  readonly field: string;
  readonly size: (value: string | number) => number | undefined;
}[] = [
  { name: 'memory', field: 'memory', size: (value) => memoryBytes(String(value)) },
  { name: 'cpu', field: 'cpu', size: (value) => cpuMillis(String(value)) },
  { name: 'minInstances', field: 'min_instances', size: count },
  { name: 'maxInstances', field: 'max_instances', size: count },
  { name: 'timeoutS', field: 'timeout_s', size: count },
  { name: 'concurrency', field: 'concurrency', size: count },
];

function count(value: string | number): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

/** The run's settings: what it asks for in `deployment_config`, the defaults for the rest. */
export function servingSettingsOf(requested: DeploymentConfig | undefined): ServingSettings {
  const asked = requested ?? {};
  return {
    memory: asked.memory ?? DEFAULT_RESOURCES.memory,
    cpu: asked.cpu ?? DEFAULT_RESOURCES.cpu,
    minInstances: asked.minInstances ?? DEFAULT_RESOURCES.minInstances,
    maxInstances: asked.maxInstances ?? DEFAULT_RESOURCES.maxInstances,
    timeoutS: asked.timeoutS ?? DEFAULT_RESOURCES.timeoutS,
    concurrency: asked.concurrency ?? DEFAULT_RESOURCES.concurrency,
  };
}

/** The limits that apply to `modelEndpointId`. */
export function limitsFor(policy: DeploymentPolicy, modelEndpointId: string): DeploymentLimits {
  return policy.endpointLimits[modelEndpointId] ?? policy.defaultLimits;
}

/**
 * Every way the settings a run would be deployed with exceed `limits`
 * (empty when none does). Values the run did not ask for are the defaults;
 * they are checked too, so limits below them show up here as well.
 */
export function policyViolations(
  limits: DeploymentLimits,
  requested: DeploymentConfig | undefined,
): PolicyViolation[] {
  const settings = servingSettingsOf(requested);
  const violations: PolicyViolation[] = [];
  if (requested?.public === true && !limits.allowPublic) {
    violations.push({
      field: 'public',
      asked: true,
      limit: false,
      setBy: limits.setBy.allowPublic,
      reason: `deployment_config.public is true, but this chain does not allow public services (${limits.setBy.allowPublic})`,
    });
  }
  for (const { name, field, size } of RESOURCES) {
    const asked = settings[name];
    const limit = limits[name];
    const askedSize = size(asked);
    const limitSize = size(limit);
    // An unreadable quantity counts as over: the event schema admits none, so nothing is deployed unread.
    if (askedSize !== undefined && limitSize !== undefined && askedSize <= limitSize) continue;
    const what =
      requested?.[name] !== undefined ? `deployment_config.${field}` : `the default ${field}`;
    violations.push({
      field,
      asked,
      limit,
      setBy: limits.setBy[name],
      reason: `${what} is ${asked}, above this chain's limit of ${limit} (${limits.setBy[name]})`,
    });
  }
  return violations;
}

/**
 * Refuses a run whose serving settings are outside its endpoint's limits.
 * @throws PermanentError `DEPLOY.OUTSIDE_POLICY` naming every violation.
 */
export function checkDeploymentPolicy(
  policy: DeploymentPolicy,
  modelEndpointId: string,
  requested: DeploymentConfig | undefined,
): void {
  const violations = policyViolations(limitsFor(policy, modelEndpointId), requested);
  if (violations.length === 0) return;
  throw new PermanentError(
    'DEPLOY.OUTSIDE_POLICY',
    `deployment_config is outside this chain's deployment policy: ${violations.map((v) => v.reason).join('; ')}`,
    {
      metadata: {
        modelEndpointId,
        fields: violations.map((v) => v.field).join(','),
      },
    },
  );
}
