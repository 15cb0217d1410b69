/**
 * The replay sample: a bounded, reservoir-sampled set of the predict
 * instances a live ann-serving revision answered, which verify replays
 * against a candidate before traffic moves. ann-serving writes it (its
 * src/replay/), verify reads it; this module is the contract between them,
 * and loads neither TensorFlow.js nor hnswlib (verify imports it directly).
 *
 * It can hold customer data: only the signature's inputs of each instance,
 * never headers, ids or anything else of a request. Problems found while
 * reading it name JSON paths, never values, so a corrupt sample cannot leak
 * into logs.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

export const REPLAY_SAMPLE_FORMAT_VERSION = 1;

/**
 * The request header that keeps a predict out of the sample (any value):
 * verify sends it with its synthetic and replayed queries, which are not
 * live traffic. Lower case, as Node hands header names to the server.
 */
export const VERIFICATION_HEADER = 'x-recdeploy-verification';

/** Largest REPLAY_SAMPLE_SIZE ann-serving accepts. */
export const MAX_REPLAY_SAMPLE_SIZE = 100_000;

/** Bytes that are not UTF-8, as TF Serving's JSON takes them for DT_STRING inputs. */
export const ReplayBytesSchema = Type.Object(
  { b64: Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$' }) },
  { additionalProperties: false },
);

/** One input value as a client sends it: finite numbers, strings, booleans, or bytes. */
export const ReplayValueSchema = Type.Union([
  Type.Number(),
  Type.String(),
  Type.Boolean(),
  ReplayBytesSchema,
]);

/** One instance in row format: the signature's input names and their values. */
export const ReplayInstanceSchema = Type.Record(Type.String(), ReplayValueSchema);

export const ReplaySampleSchema = Type.Object(
  {
    format_version: Type.Literal(REPLAY_SAMPLE_FORMAT_VERSION),
    /** MODEL_NAME of the revision that served the instances (the name in /v1/models/{name}). */
    model_name: Type.String({ minLength: 1 }),
    /** TRAINING_RUN_ID of that revision, when it had one. */
    training_run_id: Type.Optional(Type.String({ minLength: 1 })),
    /** When this file was written (ISO-8601 UTC). */
    written_at: Type.String({ minLength: 1 }),
    /** When this reservoir started (a restarted revision keeps its first start). */
    sampling_since: Type.String({ minLength: 1 }),
    /** Instances offered to the reservoir so far; each had an equal chance to be kept. */
    seen: Type.Integer({ minimum: 0 }),
    /** REPLAY_SAMPLE_SIZE: most instances kept. */
    capacity: Type.Integer({ minimum: 0, maximum: MAX_REPLAY_SAMPLE_SIZE }),
    instances: Type.Array(ReplayInstanceSchema),
  },
  { title: 'recdeploy replay sample', additionalProperties: true },
);

export type ReplayBytes = Static<typeof ReplayBytesSchema>;
export type ReplayValue = Static<typeof ReplayValueSchema>;
export type ReplayInstance = Static<typeof ReplayInstanceSchema>;
export type ReplaySample = Static<typeof ReplaySampleSchema>;

/** The file's text: the fields in the documented order, `training_run_id` only when known. */
export function formatReplaySample(sample: ReplaySample): string {
  return JSON.stringify({
    format_version: sample.format_version,
    model_name: sample.model_name,
    training_run_id: sample.training_run_id,
    written_at: sample.written_at,
    sampling_since: sample.sampling_since,
    seen: sample.seen,
    capacity: sample.capacity,
    instances: sample.instances,
  });
}

/** Reads a replay sample file, or says why it is not one (paths only, never values). */
export function parseReplaySample(
  text: string,
): { readonly sample: ReplaySample } | { readonly problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // V8's message quotes the text around the error: it could be an instance.
    return { problem: 'it is not valid JSON' };
  }
  const first = Value.Errors(ReplaySampleSchema, value).First();
  if (first !== undefined) return { problem: `${first.path || '/'}: ${first.message}` };
  const sample = value as ReplaySample;
  if (sample.instances.length > sample.capacity) {
    return {
      problem: `it holds ${sample.instances.length} instances, more than its capacity ${sample.capacity}`,
    };
  }
  if (sample.instances.length > sample.seen) {
    return {
      problem: `it holds ${sample.instances.length} instances but says only ${sample.seen} were seen`,
    };
  }
  return { sample };
}
