/**
 * Deterministic names on the serving platform. A retried deploy must find
 * what the first attempt created, so every name is derived from the run, never
 * from time or randomness (Cloud Run revisions are immutable by name).
 *
 * Cloud Run rules: a service id starts with a letter, has lowercase letters,
 * digits and "-", no trailing "-", fewer than 50 characters; a revision name
 * begins with `{service}-` (Knative's rule: knative/serving
 * pkg/apis/serving/v1/revision_validation.go, validateRevisionName) and is at
 * most 63 characters; a tag is lowercase letters, digits and "-", and a tag
 * plus the service name may not exceed 46 characters, since together they
 * make the tag URL's first DNS label (`{tag}---{service}-{hash}-{region}`;
 * gcloud: "Combined traffic tag and service name cannot exceed 46
 * characters", PolicyEngine/policyengine-api#3729).
 *
 * Names that fitted those rules before the 46-character one was honoured are
 * unchanged (a deployed endpoint keeps its service, revisions and tags); only
 * names that Cloud Run refused are now cut shorter.
 */
import { createHash } from 'node:crypto';
import type { RunIdentity } from './run-document.js';

/** Cloud Run's limit on a tag plus the service name. */
export const TAG_AND_SERVICE_MAX = 46;
const TAG_PREFIX = 'run-';
const HASH_CHARS = 8;
/** Every tag is `run-{hash}`: 12 characters. */
const TAG_LENGTH = TAG_PREFIX.length + HASH_CHARS;
/** What the tag leaves the service: 34 characters (Cloud Run's own limit is 49). */
const SERVICE_MAX = TAG_AND_SERVICE_MAX - TAG_LENGTH;
const REVISION_MAX = 63;

/**
 * The service serving a model endpoint: `{prefix}{endpoint}`, sanitised and
 * bounded to 34 characters; a name that had to change ends with a hash of the
 * endpoint id, so two endpoints never share a service.
 */
export function serviceNameFor(modelEndpointId: string, prefix: string): string {
  return boundedName(`${prefix}${modelEndpointId}`, SERVICE_MAX, modelEndpointId);
}

/**
 * The revision of a run: `{service}-r{runNumber}-{hash}`, where the hash of the
 * run id keeps two runs with one run number apart. A service from
 * serviceNameFor leaves room for any safe-integer run number (34 + 1 + 17 +
 * 1 + 8 ≤ 63); past 63 characters the run number goes, the whole
 * `{service}-` prefix and the hash stay.
 */
export function revisionNameFor(
  service: string,
  run: Pick<RunIdentity, 'modelEndpointId' | 'trainingRunId' | 'runNumber'>,
): string {
  const hash = shortHash(`${run.modelEndpointId}/${run.trainingRunId}`);
  const named = `${service}-r${run.runNumber}-${hash}`;
  if (named.length <= REVISION_MAX) return named;
  const short = `${service}-${hash}`;
  if (short.length > REVISION_MAX) {
    throw new Error(`service name ${service} leaves no room for a revision name`);
  }
  return short;
}

/** The traffic tag giving the run's revision its own URL: `run-{hash}`. */
export function tagFor(run: Pick<RunIdentity, 'modelEndpointId' | 'trainingRunId'>): string {
  return `${TAG_PREFIX}${shortHash(`${run.modelEndpointId}/${run.trainingRunId}`)}`;
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
  return createHash('sha256').update(text).digest('hex').slice(0, HASH_CHARS);
}
