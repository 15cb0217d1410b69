/**
 * Deterministic names on the serving platform. A retried deploy must find
 * what the first attempt created, so every name is derived from the run, never
 * from time or randomness (Cloud Run revisions are immutable by name).
 *
 * Cloud Run rules: a service id starts with a letter, has lowercase letters,
 * digits and "-", no trailing "-", fewer than 50 characters; a revision name is
 * `{service}-{suffix}` and at most 63 characters; a tag is lowercase letters,
 * digits and "-", and prefixes the service URL (`{tag}---{service}-…`).
 */
import { createHash } from 'node:crypto';
import type { RunIdentity } from './run-document.js';

const SERVICE_MAX = 49;
const REVISION_MAX = 63;

/** The service serving a model endpoint: `{prefix}{endpoint}`, sanitised and bounded. */
export function serviceNameFor(modelEndpointId: string, prefix: string): string {
  return boundedName(`${prefix}${modelEndpointId}`, SERVICE_MAX, modelEndpointId);
}

/**
 * The revision of a run: `{service}-r{runNumber}-{hash}`, where the hash of the
 * run id keeps two runs with one run number apart. Bounded to 63 characters.
 */
export function revisionNameFor(
  service: string,
  run: Pick<RunIdentity, 'modelEndpointId' | 'trainingRunId' | 'runNumber'>,
): string {
  const hash = shortHash(`${run.modelEndpointId}/${run.trainingRunId}`);
  const suffix = `r${run.runNumber}-${hash}`;
  return `${service.slice(0, REVISION_MAX - suffix.length - 1).replace(/-+$/, '')}-${suffix}`;
}

/** The traffic tag giving the run's revision its own URL: `run-{hash}`. */
export function tagFor(run: Pick<RunIdentity, 'modelEndpointId' | 'trainingRunId'>): string {
  return `run-${shortHash(`${run.modelEndpointId}/${run.trainingRunId}`)}`;
}

function boundedName(raw: string, max: number, uniqueBy: string): string {
  let name = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(name)) name = `s-${name}`;
  if (name.length <= max && name === raw) return name;
  // Sanitising or cutting can make two endpoints collide: a hash of the
  // original keeps them apart.
  const hash = shortHash(uniqueBy);
  const head = name.slice(0, max - hash.length - 1).replace(/-+$/, '');
  return `${head}-${hash}`;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}
