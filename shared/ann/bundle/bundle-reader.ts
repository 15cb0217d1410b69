/**
 * Reads and validates a model bundle (DESIGN.md §5) without loading the query
 * model, so a server can check everything cheap before paying for TF.js.
 * Every problem is a `PermanentError('BUNDLE.INVALID')` whose message starts
 * with the file it is about. `loadQueryEncoder` completes the check (the
 * model loads and returns embedding_dim values for the first example).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { toRecdeployError } from '../../errors.js';
import { readModelJson } from '../encoder/model-files.js';
import type { CandidateMatrix, ProductId } from '../types.js';
import { BUNDLE_FILES, bundleError, locateAnnDir, resolveInside } from './bundle-files.js';
import { readCandidates } from './candidates-file.js';
import { DEFAULT_QUERY_MODEL, bundleManifestProblem, type Manifest } from './manifest.js';
import { createPreprocessor } from './preprocessing.js';
import { checkProductIds } from './product-ids.js';
import { preview } from './schema-errors.js';
import { parseVocabulary } from './vocabulary-file.js';

/** A bundle whose files were all checked. */
export interface ModelBundle {
  /** The bundle's `ann/` directory (absolute). */
  readonly dir: string;
  readonly manifest: Manifest;
  readonly candidates: CandidateMatrix;
  /** Original product ids; row i of `candidates` is `productIds[i]`. */
  readonly productIds: ProductId[];
  /** Vocabulary tokens by input name, for inputs with vocabulary preprocessing. */
  readonly vocabularies: ReadonlyMap<string, string[]>;
  /** Instances as a client sends them (at least one). */
  readonly examples: Record<string, unknown>[];
  /** Absolute path of the query model's model.json. */
  readonly queryModelPath: string;
}

/**
 * Reads the bundle in `dir` (the `ann/` directory, or an artifact directory
 * holding `ann/`). Checks the manifest schema, candidates.f32 size N×D×4 and
 * finiteness, product_ids.json (N unique ids of the declared dtype), each
 * vocabulary file (present, non-empty, no repeated token), examples.json
 * (objects that pass the manifest's input validation) and that the query
 * model's model.json and weight files exist.
 */
export async function readBundle(dir: string): Promise<ModelBundle> {
  const annDir = await locateAnnDir(dir);
  const file = (name: string) => path.join(annDir, name);
  const manifestFile = file(BUNDLE_FILES.manifest);
  const manifest = await readJson(manifestFile);
  const problem = bundleManifestProblem(manifest);
  if (problem) throw bundleError(manifestFile, problem);
  const m = manifest as Manifest;

  const queryModelPath = resolveInside(annDir, m.query_model ?? DEFAULT_QUERY_MODEL, manifestFile);
  const candidates = await readCandidates(
    file(BUNDLE_FILES.candidates),
    m.candidate_count,
    m.embedding_dim,
  );
  const idsFile = file(BUNDLE_FILES.productIds);
  const ids = checkProductIds(await readJson(idsFile), m.candidate_count, m.product_id_dtype);
  if ('problem' in ids) throw bundleError(idsFile, ids.problem);
  const vocabularies = await readVocabularies(annDir, m, manifestFile);
  const examples = await readExamples(file(BUNDLE_FILES.examples), m, vocabularies);
  await readModelJson(queryModelPath);
  return {
    dir: annDir,
    manifest: m,
    candidates,
    productIds: ids.ids,
    vocabularies,
    examples,
    queryModelPath,
  };
}

async function readVocabularies(
  annDir: string,
  manifest: Manifest,
  manifestFile: string,
): Promise<Map<string, string[]>> {
  const vocabularies = new Map<string, string[]>();
  for (const input of manifest.inputs) {
    if (input.preprocessing.kind !== 'vocabulary') continue;
    const vocabFile = resolveInside(annDir, input.preprocessing.vocabulary_file, manifestFile);
    const text = await readFile(vocabFile, 'utf8').catch((error: unknown) => {
      throw bundleError(
        vocabFile,
        `vocabulary of input "${input.name}" cannot be read (missing?)`,
        error,
      );
    });
    const parsed = parseVocabulary(text);
    if ('problem' in parsed)
      throw bundleError(vocabFile, `vocabulary of input "${input.name}" ${parsed.problem}`);
    vocabularies.set(input.name, parsed.tokens);
  }
  return vocabularies;
}

async function readExamples(
  examplesFile: string,
  manifest: Manifest,
  vocabularies: ReadonlyMap<string, string[]>,
): Promise<Record<string, unknown>[]> {
  const examples = await readJson(examplesFile);
  if (!Array.isArray(examples) || examples.length === 0) {
    throw bundleError(
      examplesFile,
      `expected a non-empty array of instances, got ${preview(examples)}`,
    );
  }
  const preprocessor = createPreprocessor(manifest, vocabularies);
  for (const [i, example] of (examples as unknown[]).entries()) {
    if (typeof example !== 'object' || example === null || Array.isArray(example)) {
      throw bundleError(examplesFile, `instance ${i} is not an object: ${preview(example)}`);
    }
    try {
      preprocessor.instances([example]);
    } catch (error) {
      throw bundleError(
        examplesFile,
        `instance ${i} does not fit the manifest inputs: ${toRecdeployError(error).message}`,
      );
    }
  }
  return examples as Record<string, unknown>[];
}

async function readJson(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8').catch((error: unknown) => {
    throw bundleError(file, 'cannot be read (missing?)', error);
  });
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw bundleError(file, `not valid JSON (${(error as Error).message})`, error);
  }
}
