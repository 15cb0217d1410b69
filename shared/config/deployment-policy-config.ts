/**
 * The operator's deployment policy from the environment (docs/architecture.md
 * "Deployment policy"): whether a run may ask for a public service, and the
 * largest value of each resource in `deployment_config`, for every endpoint
 * (DEPLOY_ALLOW_PUBLIC, DEPLOY_{FIELD}_LIMIT) and for endpoints that differ
 * (DEPLOY_ENDPOINTS, JSON: endpoint id → the limits that differ).
 */
import { Type, type Static } from '@sinclair/typebox';
import {
  policyViolations,
  type DeploymentLimits,
  type DeploymentPolicy,
  type LimitName,
} from '../domain/deployment-policy.js';
import { endpointsJsonOf } from './endpoint-json.js';

/** Cloud Run's largest instance count (the event schema's bound too). */
const MAX_INSTANCES = 1000;
/** Cloud Run quantities, as shared/domain/resource-quantities.ts reads them. */
const MEMORY_QUANTITY = '^[1-9][0-9]*(Ki|Mi|Gi|Ti|k|M|G|T)?$';
const CPU_QUANTITY = '^([0-9]+(\\.[0-9]+)?|[1-9][0-9]*m)$';

const Limit = (value: number, minimum: number, maximum: number) =>
  Type.Integer({ default: value, minimum, maximum });

/**
 * The defaults: private services only; up to 20 instances (twice the default
 * 10) and 3 kept warm (billed while idle); 8Gi and 4 CPU (twice the default
 * 4Gi and 2 CPU, the pair Cloud Run allows together); 300 s per request (the
 * default) and 250 concurrent requests per instance.
 */
export const DEFAULT_DEPLOYMENT_LIMITS = {
  allowPublic: false,
  memory: '8Gi',
  cpu: '4',
  minInstances: 3,
  maxInstances: 20,
  timeoutS: 300,
  concurrency: 250,
} as const;

export const DeploymentPolicyEnvProperties = {
  /** true lets runs ask for `deployment_config.public` (an unauthenticated service, /metrics included). */
  DEPLOY_ALLOW_PUBLIC: Type.Union([Type.Literal('false'), Type.Literal('true')], {
    default: String(DEFAULT_DEPLOYMENT_LIMITS.allowPublic),
  }),
  DEPLOY_MEMORY_LIMIT: Type.String({
    default: DEFAULT_DEPLOYMENT_LIMITS.memory,
    pattern: MEMORY_QUANTITY,
    maxLength: 16,
  }),
  DEPLOY_CPU_LIMIT: Type.String({
    default: DEFAULT_DEPLOYMENT_LIMITS.cpu,
    pattern: CPU_QUANTITY,
    maxLength: 16,
  }),
  DEPLOY_MIN_INSTANCES_LIMIT: Limit(DEFAULT_DEPLOYMENT_LIMITS.minInstances, 0, MAX_INSTANCES),
  DEPLOY_MAX_INSTANCES_LIMIT: Limit(DEFAULT_DEPLOYMENT_LIMITS.maxInstances, 1, MAX_INSTANCES),
  DEPLOY_TIMEOUT_S_LIMIT: Limit(DEFAULT_DEPLOYMENT_LIMITS.timeoutS, 1, 3600),
  DEPLOY_CONCURRENCY_LIMIT: Limit(DEFAULT_DEPLOYMENT_LIMITS.concurrency, 1, 1000),
  /** Endpoints with limits of their own: {"home": {"allow_public": true, "max_instances": 100}}. */
  DEPLOY_ENDPOINTS: Type.Optional(Type.String({ minLength: 2 })),
};

type PolicyVars = Static<ReturnType<typeof Type.Object<typeof DeploymentPolicyEnvProperties>>>;

/** The variable that sets each limit for every endpoint … */
const VARIABLES: Readonly<Record<LimitName, string>> = {
  allowPublic: 'DEPLOY_ALLOW_PUBLIC',
  memory: 'DEPLOY_MEMORY_LIMIT',
  cpu: 'DEPLOY_CPU_LIMIT',
  minInstances: 'DEPLOY_MIN_INSTANCES_LIMIT',
  maxInstances: 'DEPLOY_MAX_INSTANCES_LIMIT',
  timeoutS: 'DEPLOY_TIMEOUT_S_LIMIT',
  concurrency: 'DEPLOY_CONCURRENCY_LIMIT',
};
/** … and its field in a DEPLOY_ENDPOINTS entry. */
const ENDPOINT_FIELDS: Readonly<Record<LimitName, string>> = {
  allowPublic: 'allow_public',
  memory: 'memory',
  cpu: 'cpu',
  minInstances: 'min_instances',
  maxInstances: 'max_instances',
  timeoutS: 'timeout_s',
  concurrency: 'concurrency',
};

const EndpointLimitsSchema = Type.Object(
  {
    allow_public: Type.Optional(Type.Boolean()),
    memory: Type.Optional(Type.String({ pattern: MEMORY_QUANTITY, maxLength: 16 })),
    cpu: Type.Optional(Type.String({ pattern: CPU_QUANTITY, maxLength: 16 })),
    min_instances: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_INSTANCES })),
    max_instances: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_INSTANCES })),
    timeout_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);
type EndpointLimitsWire = Static<typeof EndpointLimitsSchema>;

/** The policy, or the list of problems with the variables (reported with the others at cold start). */
export function deploymentPolicyOf(vars: PolicyVars): DeploymentPolicy | string[] {
  const values = {
    allowPublic: vars.DEPLOY_ALLOW_PUBLIC === 'true',
    memory: vars.DEPLOY_MEMORY_LIMIT,
    cpu: vars.DEPLOY_CPU_LIMIT,
    minInstances: vars.DEPLOY_MIN_INSTANCES_LIMIT,
    maxInstances: vars.DEPLOY_MAX_INSTANCES_LIMIT,
    timeoutS: vars.DEPLOY_TIMEOUT_S_LIMIT,
    concurrency: vars.DEPLOY_CONCURRENCY_LIMIT,
  };
  const defaultLimits: DeploymentLimits = {
    ...values,
    setBy: mapLimits((name) => `${VARIABLES[name]}=${String(values[name])}`),
  };
  const problems = belowDefaults(defaultLimits);
  const endpointLimits: Record<string, DeploymentLimits> = {};
  for (const [endpoint, wire] of Object.entries(endpointsOf(vars, problems))) {
    const limits = endpointLimitsOf(endpoint, wire, defaultLimits);
    problems.push(...belowDefaults(limits));
    endpointLimits[endpoint] = limits;
  }
  if (problems.length > 0) return problems;
  return { defaultLimits, endpointLimits };
}

/**
 * A policy whose limits are below the defaults would refuse every run that
 * asks for nothing: a configuration error, said at start instead.
 */
function belowDefaults(limits: DeploymentLimits): string[] {
  return policyViolations(limits, undefined).map(
    (v) =>
      `${v.setBy} is below the default ${v.field} (${String(v.asked)}) that runs get when they do not ask`,
  );
}

function endpointsOf(vars: PolicyVars, problems: string[]): Record<string, EndpointLimitsWire> {
  return endpointsJsonOf('DEPLOY_ENDPOINTS', vars.DEPLOY_ENDPOINTS, EndpointLimitsSchema, problems);
}

/** An endpoint's limits: the chain's, with what DEPLOY_ENDPOINTS sets for it. */
function endpointLimitsOf(
  endpoint: string,
  wire: EndpointLimitsWire,
  base: DeploymentLimits,
): DeploymentLimits {
  const values = {
    allowPublic: wire.allow_public ?? base.allowPublic,
    memory: wire.memory ?? base.memory,
    cpu: wire.cpu ?? base.cpu,
    minInstances: wire.min_instances ?? base.minInstances,
    maxInstances: wire.max_instances ?? base.maxInstances,
    timeoutS: wire.timeout_s ?? base.timeoutS,
    concurrency: wire.concurrency ?? base.concurrency,
  };
  const own = (name: LimitName) =>
    (wire as Record<string, unknown>)[ENDPOINT_FIELDS[name]] !== undefined;
  return {
    ...values,
    setBy: mapLimits((name) =>
      own(name)
        ? `DEPLOY_ENDPOINTS.${endpoint}.${ENDPOINT_FIELDS[name]}=${String(values[name])}`
        : base.setBy[name],
    ),
  };
}

function mapLimits(valueOf: (name: LimitName) => string): Record<LimitName, string> {
  const names = Object.keys(VARIABLES) as LimitName[];
  return Object.fromEntries(names.map((name) => [name, valueOf(name)])) as Record<
    LimitName,
    string
  >;
}
