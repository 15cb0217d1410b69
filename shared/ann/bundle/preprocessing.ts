/**
 * Turns client instances into query-model inputs, validating them the way
 * TensorFlow Serving validates a predict request against its signature and
 * applying each input's TensorFlow Transform preprocessing from the manifest.
 * Errors are `PermanentError('INPUT.INVALID')` with TF Serving's wording, so the
 * server can answer 400 `{"error": message}` unchanged. The sample trainer uses
 * the same code on its training rows, so training and serving cannot disagree.
 */
import type { Manifest } from './manifest.js';
import type { ValueOptions } from './input-values.js';
import { columnWriter, type PreparedInputs } from './prepared-inputs.js';
import { prepareColumns, prepareRows } from './request-formats.js';
import { VocabularyLookup } from './vocabulary-lookup.js';

// Re-exported so callers import the whole preprocessing API from one module.
export type { PreparedColumn, PreparedInputs } from './prepared-inputs.js';
export { concatPrepared } from './prepared-inputs.js';
export type { ValueOptions } from './input-values.js';

/** Vocabulary tokens by input name, as `readBundle` returns them. */
export type Vocabularies = ReadonlyMap<string, readonly string[]>;

/** Validates and preprocesses requests for one manifest; build once per model. */
export interface Preprocessor {
  /** Row format: `instances`, one object per instance (bare values when the model has one input). */
  instances(instances: unknown): PreparedInputs;
  /** Columnar format: `inputs`, name → list of values (extra names ignored, as TF Serving does). */
  columns(inputs: unknown): PreparedInputs;
}

/** A preprocessor for `manifest`; vocabulary lookups are built once here. */
export function createPreprocessor(
  manifest: Manifest,
  vocabularies: Vocabularies,
  options: ValueOptions = {},
): Preprocessor {
  const lookups = new Map<string, VocabularyLookup>();
  for (const input of manifest.inputs) {
    if (input.preprocessing.kind !== 'vocabulary') continue;
    const tokens = vocabularies.get(input.name);
    if (!tokens) throw new Error(`no vocabulary loaded for input "${input.name}"`);
    lookups.set(input.name, new VocabularyLookup(tokens, input.preprocessing.num_oov_buckets));
  }
  const inputs = manifest.inputs;
  const writers = (count: number) =>
    inputs.map((input) => columnWriter(input, lookups.get(input.name), count, options));
  return {
    instances: (instances) => prepareRows(inputs, writers, instances),
    columns: (columns) => prepareColumns(inputs, writers, columns),
  };
}

const cache = new WeakMap<Manifest, WeakMap<Vocabularies, Preprocessor>>();

/**
 * Row-format convenience: validates `instances` against `manifest` and
 * preprocesses them. The preprocessor is cached per (manifest, vocabularies)
 * object pair. Throws `PermanentError('INPUT.INVALID')`.
 */
export function prepareInputs(
  manifest: Manifest,
  vocabularies: Vocabularies,
  instances: readonly unknown[],
): PreparedInputs {
  let byVocabularies = cache.get(manifest);
  if (!byVocabularies) cache.set(manifest, (byVocabularies = new WeakMap()));
  let preprocessor = byVocabularies.get(vocabularies);
  if (!preprocessor)
    byVocabularies.set(vocabularies, (preprocessor = createPreprocessor(manifest, vocabularies)));
  return preprocessor.instances(instances);
}
