/**
 * The revision template a deploy sends: built from the service's current
 * template, with only the fields recdeploy owns replaced, so what an operator
 * set by hand (VPC access, volumes and secrets, other env vars, sidecars, the
 * execution environment, session affinity, an encryption key, the service
 * account when recdeploy has none configured, …) survives every deploy.
 * docs/cloud-run-service.md lists the owned fields for operators; the two
 * functions `ownedTemplateFields` and `ownedContainerFields` are where the
 * code names them. No I/O; the SDK is imported for types only.
 */
import type { protos } from '@google-cloud/run';
import type { RevisionSpec } from '../../ports/serving-platform.port.js';

export type RevisionTemplateMessage = protos.google.cloud.run.v2.IRevisionTemplate;
type ContainerMessage = protos.google.cloud.run.v2.IContainer;
type EnvVarMessage = protos.google.cloud.run.v2.IEnvVar;

/**
 * Template annotation naming the env vars recdeploy set on the revision, so
 * the next deploy can tell its own stale ones (a setting a newer run no longer
 * sends) from the operator's, which it keeps.
 */
export const ENV_NAMES_ANNOTATION = 'recdeploy.dev/env-names';

/**
 * Startup probe timing: up to 24 × 10 s = 240 s for the model to load before
 * the revision counts as failed. Cloud Run bounds startup probes at
 * period ≤ 240 s and timeout < period.
 */
export const STARTUP_PROBE_TIMING = {
  periodSeconds: 10,
  timeoutSeconds: 5,
  failureThreshold: 24,
} as const;

export interface TemplateOptions {
  /** Service account the revision runs as; when absent the current template's stays (default: the project's compute account). */
  readonly serviceAccount?: string;
}

/**
 * The revision template for `spec` over `current` (the service's template as
 * read; none for a new service). Equal inputs give byte-identical templates
 * (env and labels in a fixed order), and building over the result again gives
 * it back: named revisions are immutable, so a retried deploy, which reads the
 * template its first attempt wrote, must send the same one or be refused as
 * "different configuration".
 */
export function buildRevisionTemplate(
  spec: RevisionSpec,
  options: TemplateOptions = {},
  current?: RevisionTemplateMessage | null,
): RevisionTemplateMessage {
  const base = current ?? {};
  const containers = [...(base.containers ?? [])];
  const serving = servingContainerIndex(containers);
  const previous = containers[serving];
  const previouslyOurs = new Set((base.annotations?.[ENV_NAMES_ANNOTATION] ?? '').split(','));
  containers[serving] = {
    ...previous,
    ...ownedContainerFields(spec),
    env: mergedEnv(previous?.env, spec.env, previouslyOurs),
    resources: {
      ...previous?.resources,
      limits: sortedRecord({
        ...previous?.resources?.limits,
        cpu: spec.resources.cpu,
        memory: spec.resources.memory,
      }),
      // Setting `resources` without cpuIdle switches the revision to
      // instance-based billing (CPU always allocated); keep request-based.
      cpuIdle: true,
      startupCpuBoost: true,
    },
  };
  return {
    ...base,
    ...ownedTemplateFields(spec, options),
    labels: sortedRecord({ ...base.labels, ...spec.labels }),
    annotations: sortedRecord({
      ...base.annotations,
      [ENV_NAMES_ANNOTATION]: Object.keys(spec.env).sort().join(','),
    }),
    containers,
  };
}

/**
 * Template fields recdeploy sets whole. Minimum instances stay 0 here: Cloud
 * Run keeps a revision-level minimum warm for every revision with traffic or
 * a tag, so each kept 0% tagged revision would keep its own instances
 * ("Revisions and minimum instances",
 * https://docs.cloud.google.com/run/docs/configuring/min-instances); the
 * minimum is set on the service instead (cloud-run-service-spec.ts).
 * Labels and annotations are merged by key in buildRevisionTemplate.
 */
function ownedTemplateFields(
  spec: RevisionSpec,
  options: TemplateOptions,
): RevisionTemplateMessage {
  const { resources } = spec;
  return {
    revision: spec.revision,
    scaling: { minInstanceCount: 0, maxInstanceCount: resources.maxInstances },
    timeout: { seconds: resources.timeoutS },
    maxInstanceRequestConcurrency: resources.concurrency,
    ...(options.serviceAccount !== undefined && { serviceAccount: options.serviceAccount }),
  };
}

/**
 * Fields of the serving container recdeploy sets whole. Its env vars
 * (merged by name) and resource limits `cpu`, `memory`, `cpuIdle`,
 * `startupCpuBoost` (merged into the operator's resources) are set in
 * buildRevisionTemplate.
 */
function ownedContainerFields(spec: RevisionSpec): ContainerMessage {
  return {
    image: spec.image,
    ports: [{ name: 'http1', containerPort: spec.containerPort }],
    startupProbe: {
      httpGet: { path: spec.startupProbePath, port: spec.containerPort },
      ...STARTUP_PROBE_TIMING,
    },
  };
}

/**
 * The container that receives requests: the one with a port (Cloud Run
 * allows one ingress container; sidecars have none), else the first.
 */
function servingContainerIndex(containers: readonly ContainerMessage[]): number {
  const withPort = containers.findIndex((c) => (c.ports ?? []).length > 0);
  return withPort === -1 ? 0 : withPort;
}

/**
 * recdeploy's env vars sorted by name, then the operator's in their order
 * (secret references included). An operator var named like one of recdeploy's
 * gives way; one recdeploy set last time and no longer sends is dropped.
 */
function mergedEnv(
  current: readonly EnvVarMessage[] | null | undefined,
  ours: Readonly<Record<string, string>>,
  previouslyOurs: ReadonlySet<string>,
): EnvVarMessage[] {
  const names = Object.keys(ours).sort();
  const owned = new Set([...names, ...previouslyOurs]);
  const kept = (current ?? []).filter((e) => !owned.has(e.name ?? ''));
  return [...names.map((name) => ({ name, value: ours[name] ?? '' })), ...kept];
}

export function sortedRecord(
  record: Readonly<Record<string, string>> | null | undefined,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}
