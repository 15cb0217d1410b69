/**
 * The operator's replay policy from the environment (docs/architecture.md
 * "Replay of live queries"): whether ann-serving revisions keep a sample of
 * the predict instances they serve, where the samples go, and whether the
 * replay check gates on overlap with the live revision. REPLAY_SAMPLE_SIZE
 * and REPLAY_MIN_OVERLAP apply to every endpoint, REPLAY_ENDPOINTS (JSON:
 * endpoint id → {"sample_size", "min_overlap"}) to endpoints that differ.
 * Sampling is off by default: instances can hold customer data.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { endpointsJsonOf } from './endpoint-json.js';

/** The most instances a revision keeps per endpoint: verify replays every one of them. */
const MAX_REPLAY_SAMPLE_SIZE = 10_000;

const SampleSize = Type.Integer({ minimum: 0, maximum: MAX_REPLAY_SAMPLE_SIZE });
const Ratio = Type.Number({ minimum: 0, maximum: 1 });

export const ReplayEnvProperties = {
  /** Instances each ann-serving revision keeps (reservoir); 0 (default) keeps none. */
  REPLAY_SAMPLE_SIZE: Type.Integer({ default: 0, minimum: 0, maximum: MAX_REPLAY_SAMPLE_SIZE }),
  /** Lowest mean overlap@k with the live revision; unset: overlap is reported only. */
  REPLAY_MIN_OVERLAP: Type.Optional(Ratio),
  /** Where samples go: an absolute path, file:// or gs://bucket/prefix. */
  REPLAY_SAMPLE_BASE_URI: Type.Optional(Type.String({ minLength: 1, maxLength: 900 })),
  /** How often a revision writes its sample (seconds). */
  REPLAY_PERSIST_INTERVAL_S: Type.Integer({ default: 60, minimum: 1, maximum: 86_400 }),
  /** Endpoints that differ: {"home": {"sample_size": 2000, "min_overlap": 0.5}}. */
  REPLAY_ENDPOINTS: Type.Optional(Type.String({ minLength: 2 })),
};

type ReplayVars = Static<ReturnType<typeof Type.Object<typeof ReplayEnvProperties>>>;

const EndpointReplaySchema = Type.Object(
  { sample_size: Type.Optional(SampleSize), min_overlap: Type.Optional(Ratio) },
  { additionalProperties: false },
);

/** One endpoint's replay settings. */
export interface EndpointReplay {
  /** Instances its revisions keep; 0: no sampling, the replay check is skipped. */
  readonly sampleSize: number;
  /** Gate on overlap@k with the live revision; absent: reported only. */
  readonly minOverlap?: number;
}

export interface ReplayPolicy {
  readonly defaults: EndpointReplay;
  readonly endpoints: Readonly<Record<string, EndpointReplay>>;
  /** file:// or gs:// URI without a trailing slash; set whenever any endpoint samples. */
  readonly sampleBaseUri?: string;
  readonly persistIntervalS: number;
}

/** Sampling off everywhere: what a configuration without REPLAY_* variables gives. */
export const REPLAY_OFF: ReplayPolicy = {
  defaults: { sampleSize: 0 },
  endpoints: {},
  persistIntervalS: 60,
};

/** The settings of `endpoint`. */
export function replayFor(policy: ReplayPolicy, endpoint: string): EndpointReplay {
  return policy.endpoints[endpoint] ?? policy.defaults;
}

/**
 * Where the revision `revision` of `endpoint` keeps its sample, or undefined
 * when the endpoint does not sample. Derived from the configuration only, so
 * a retried deploy step asks for the same revision.
 */
export function replaySampleUri(
  policy: ReplayPolicy,
  endpoint: string,
  revision: string,
): string | undefined {
  if (replayFor(policy, endpoint).sampleSize === 0 || policy.sampleBaseUri === undefined) {
    return undefined;
  }
  return `${policy.sampleBaseUri}/${endpoint}/${revision}.json`;
}

/** The policy, or the list of problems with the variables (reported with the others at cold start). */
export function replayPolicyOf(vars: ReplayVars): ReplayPolicy | string[] {
  const problems: string[] = [];
  const defaults: EndpointReplay = {
    sampleSize: vars.REPLAY_SAMPLE_SIZE,
    ...(vars.REPLAY_MIN_OVERLAP === undefined ? {} : { minOverlap: vars.REPLAY_MIN_OVERLAP }),
  };
  const endpoints: Record<string, EndpointReplay> = {};
  const wires = endpointsJsonOf(
    'REPLAY_ENDPOINTS',
    vars.REPLAY_ENDPOINTS,
    EndpointReplaySchema,
    problems,
  );
  for (const [endpoint, wire] of Object.entries(wires)) {
    const minOverlap = wire.min_overlap ?? defaults.minOverlap;
    endpoints[endpoint] = {
      sampleSize: wire.sample_size ?? defaults.sampleSize,
      ...(minOverlap === undefined ? {} : { minOverlap }),
    };
  }
  const sampling = [defaults, ...Object.values(endpoints)].some((e) => e.sampleSize > 0);
  const base = baseUriOf(vars.REPLAY_SAMPLE_BASE_URI, problems);
  if (sampling && vars.REPLAY_SAMPLE_BASE_URI === undefined) {
    problems.push(
      'REPLAY_SAMPLE_BASE_URI is required when an endpoint samples (REPLAY_SAMPLE_SIZE or REPLAY_ENDPOINTS.*.sample_size above 0): an absolute path, file:// or gs://bucket/prefix',
    );
  }
  if (problems.length > 0) return problems;
  return {
    defaults,
    endpoints,
    ...(base === undefined ? {} : { sampleBaseUri: base }),
    persistIntervalS: vars.REPLAY_PERSIST_INTERVAL_S,
  };
}

/** file:// (from an absolute path too) or gs://bucket[/prefix], without a trailing slash. */
function baseUriOf(value: string | undefined, problems: string[]): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.replace(/\/+$/, '');
  const invalid = (why: string) => {
    problems.push(`REPLAY_SAMPLE_BASE_URI=${JSON.stringify(value)} is invalid: ${why}`);
    return undefined;
  };
  if (trimmed.startsWith('gs://')) {
    return /^gs:\/\/[a-z0-9][a-z0-9._-]{1,220}(\/[^\s]*)?$/.test(trimmed)
      ? trimmed
      : invalid('expected gs://bucket or gs://bucket/prefix');
  }
  if (trimmed.startsWith('file://')) {
    return trimmed.startsWith('file:///') ? trimmed : invalid('a file:// URI must be absolute');
  }
  if (path.isAbsolute(value)) return pathToFileURL(path.resolve(value)).href;
  return invalid('expected an absolute path, file:///… or gs://bucket/prefix');
}
