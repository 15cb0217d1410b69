/**
 * `ann/manifest.json`, the description of a model bundle (DESIGN.md §5): what
 * the query model takes (inputs and their TensorFlow Transform preprocessing),
 * what it returns (embedding_dim, metric) and what the candidates are.
 * Unknown fields are allowed and kept, so a newer trainer can add metadata
 * without breaking older servers.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ID_PATTERN, MAX_ID_CHARS } from '@recdeploy/events';
import { schemaProblems } from './schema-errors.js';

/** `tft.compute_and_apply_vocabulary`: index in the vocabulary file, OOV tokens hashed into buckets after it. */
export const VocabularyPreprocessingSchema = Type.Object({
  kind: Type.Literal('vocabulary'),
  vocabulary_file: Type.String({
    minLength: 1,
    description: 'path relative to ann/, one token per line (TFT vocabulary file)',
  }),
  num_oov_buckets: Type.Integer({ minimum: 0, maximum: 1_000_000 }),
});

/** `tft.scale_to_z_score`: (x - mean) / std with the analyzer's statistics over the training data. */
export const ZScorePreprocessingSchema = Type.Object({
  kind: Type.Literal('z_score'),
  mean: Type.Number(),
  std: Type.Number({ exclusiveMinimum: 0, description: 'population standard deviation, > 0' }),
});

/** The value goes to the model as it is. */
export const IdentityPreprocessingSchema = Type.Object({ kind: Type.Literal('identity') });

const KINDS = {
  vocabulary: VocabularyPreprocessingSchema,
  z_score: ZScorePreprocessingSchema,
  identity: IdentityPreprocessingSchema,
};

/** One of the three preprocessing kinds, told apart by `kind`. */
export const PreprocessingSchema = Type.Union([
  VocabularyPreprocessingSchema,
  ZScorePreprocessingSchema,
  IdentityPreprocessingSchema,
]);

/** One input of the query model, as a client sends it (one scalar per instance). */
export const ManifestInputSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 256 }),
  dtype: Type.Union([Type.Literal('string'), Type.Literal('int64'), Type.Literal('float32')]),
  preprocessing: PreprocessingSchema,
});

const Sha256Hex = (description: string) =>
  Type.String({
    pattern: '^[0-9a-f]{64}$',
    description: `${description} (sha256, lower-case hex)`,
  });

/** A training run id, as training-completed carries it (events/fields.ts `Id`). */
export const TrainingRunIdSchema = Type.String({
  minLength: 1,
  maxLength: MAX_ID_CHARS,
  pattern: ID_PATTERN.source,
  description: 'the training run that produced the bundle (the id training-completed carries)',
});

/**
 * Which training run made the bundle and, optionally, the content hashes of
 * what it made (bundle-fingerprint.ts says how they are computed). A server
 * refuses a bundle whose files do not match the hashes it declares.
 */
export const ManifestFingerprintSchema = Type.Object(
  {
    training_run_id: TrainingRunIdSchema,
    query_model_sha256: Type.Optional(
      Sha256Hex("the query model's weight files, in weightsManifest order"),
    ),
    candidates_sha256: Type.Optional(Sha256Hex('candidates.f32')),
  },
  { additionalProperties: true },
);

/** The manifest schema, format_version 1. */
export const ManifestSchema = Type.Object(
  {
    format_version: Type.Literal(1),
    model_type: Type.Union([
      Type.Literal('retrieval'),
      Type.Literal('ranking'),
      Type.Literal('multitask'),
    ]),
    embedding_dim: Type.Integer({ minimum: 1, maximum: 65_536 }),
    metric: Type.Literal('dot'),
    default_k: Type.Integer({ minimum: 1 }),
    max_k: Type.Optional(Type.Integer({ minimum: 1, description: 'bound on a per-request k' })),
    inputs: Type.Array(ManifestInputSchema, { minItems: 1 }),
    product_id_dtype: Type.Union([Type.Literal('string'), Type.Literal('int64')]),
    candidate_count: Type.Integer({ minimum: 1 }),
    query_model: Type.Optional(
      Type.String({ minLength: 1, description: 'default query_model/model.json' }),
    ),
    model_version: Type.Optional(Type.String()),
    trained_at: Type.Optional(Type.String()),
    metrics: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    fingerprint: Type.Optional(ManifestFingerprintSchema),
  },
  { title: 'recdeploy model bundle manifest', additionalProperties: true },
);

/** A validated manifest. Unknown fields of the file are kept on the object at runtime. */
export type Manifest = Static<typeof ManifestSchema>;
/** One entry of `inputs`. */
export type ManifestInput = Static<typeof ManifestInputSchema>;
/** The manifest's `fingerprint`. */
export type ManifestFingerprint = Static<typeof ManifestFingerprintSchema>;
/** An input's preprocessing. */
export type Preprocessing = Static<typeof PreprocessingSchema>;
/** Vocabulary preprocessing (file and OOV buckets). */
export type VocabularyPreprocessing = Static<typeof VocabularyPreprocessingSchema>;

/** Where the query model lives when the manifest does not say. */
export const DEFAULT_QUERY_MODEL = 'query_model/model.json';

/**
 * Validates a parsed manifest: the schema first, then what a schema cannot
 * say (unique input names, dtype/preprocessing pairs, k bounds). Returns the
 * problem, or undefined when the manifest is valid.
 */
export function bundleManifestProblem(value: unknown): string | undefined {
  const base = Type.Object({
    ...ManifestSchema.properties,
    inputs: Type.Array(
      Type.Object({
        ...ManifestInputSchema.properties,
        preprocessing: Type.Object({
          kind: Type.Union(Object.keys(KINDS).map((k) => Type.Literal(k))),
        }),
      }),
      { minItems: 1 },
    ),
  });
  const shape = schemaProblems(base, value);
  if (shape) return shape;
  const manifest = value as Manifest;
  for (const [i, input] of manifest.inputs.entries()) {
    const problem = inputProblem(input, `/inputs/${i}`);
    if (problem) return problem;
  }
  const names = manifest.inputs.map((input) => input.name);
  const duplicate = names.find((name, i) => names.indexOf(name) !== i);
  if (duplicate !== undefined) return `/inputs: input name "${duplicate}" appears twice`;
  if (manifest.default_k > manifest.candidate_count) {
    return `/default_k: ${manifest.default_k} exceeds candidate_count ${manifest.candidate_count}`;
  }
  if (manifest.max_k !== undefined && manifest.max_k < manifest.default_k) {
    return `/max_k: ${manifest.max_k} is below default_k ${manifest.default_k}`;
  }
  return undefined;
}

function inputProblem(input: ManifestInput, path: string): string | undefined {
  const p = input.preprocessing;
  const shape = schemaProblems(KINDS[p.kind], p, `${path}/preprocessing`);
  if (shape) return shape;
  if (p.kind === 'z_score' && !(Number.isFinite(p.std) && p.std > 0 && Number.isFinite(p.mean))) {
    return `${path}/preprocessing: z_score needs a finite mean and a finite std > 0, got mean ${p.mean}, std ${p.std}`;
  }
  if (p.kind === 'vocabulary' && input.dtype === 'float32') {
    return `${path}: a vocabulary applies to string or int64 inputs, not float32 ("${input.name}")`;
  }
  if (p.kind === 'z_score' && input.dtype === 'string') {
    return `${path}: z_score applies to numeric inputs, not string ("${input.name}")`;
  }
  if (p.kind === 'identity' && input.dtype === 'string') {
    // A TF.js model takes numbers only: strings must become indices first.
    return `${path}: a string input needs vocabulary preprocessing ("${input.name}")`;
  }
  return undefined;
}
