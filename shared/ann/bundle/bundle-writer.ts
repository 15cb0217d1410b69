/**
 * Writes a model bundle's `ann/` directory (DESIGN.md §5). Files are written
 * into a sibling temporary directory that is renamed into place at the end,
 * so a reader never sees half a bundle; an existing `ann/` (with any index
 * built from the old candidates) is replaced.
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { io } from '@tensorflow/tfjs';
import { fileSaveHandler } from '../encoder/model-files.js';
import type { CandidateMatrix, ProductId } from '../types.js';
import { ANN_DIR, BUNDLE_FILES, resolveInside } from './bundle-files.js';
import { bundleFingerprint, type FingerprintSource } from './bundle-fingerprint.js';
import { writeCandidates } from './candidates-file.js';
import { DEFAULT_QUERY_MODEL, bundleManifestProblem, type Manifest } from './manifest.js';
import { checkProductIds } from './product-ids.js';
import { formatVocabulary } from './vocabulary-file.js';

/** Anything TF.js can save through an IOHandler (a LayersModel, a GraphModel). */
export interface SavableModel {
  save(handler: io.IOHandler): Promise<io.SaveResult>;
}

/** Everything a bundle holds, in memory. */
export interface BundleParts {
  readonly manifest: Manifest;
  readonly candidates: CandidateMatrix;
  readonly productIds: readonly ProductId[];
  /** Tokens by input name, for every input with vocabulary preprocessing. */
  readonly vocabularies: ReadonlyMap<string, readonly string[]>;
  readonly examples: readonly Record<string, unknown>[];
  readonly queryModel: SavableModel;
  /**
   * The training run that made the bundle: when set, the manifest gets a
   * `fingerprint` with it and the hashes of the files as written
   * (bundle-fingerprint.ts), which servers check.
   */
  readonly trainingRunId?: string;
}

/**
 * Writes `parts` to `dir/ann/` and returns that directory. Checks the parts
 * agree (manifest valid, N × D matrix, N ids, every vocabulary present) before
 * writing anything, so a bug in a trainer fails here and not in a server.
 */
export async function writeBundle(dir: string, parts: BundleParts): Promise<string> {
  const { manifest, candidates } = parts;
  const problem =
    bundleManifestProblem(
      parts.trainingRunId === undefined
        ? manifest
        : { ...manifest, fingerprint: { training_run_id: parts.trainingRunId } },
    ) ??
    (candidates.count !== manifest.candidate_count || candidates.dim !== manifest.embedding_dim
      ? `candidates are ${candidates.count} × ${candidates.dim}, manifest says ${manifest.candidate_count} × ${manifest.embedding_dim}`
      : undefined);
  if (problem) throw new Error(`writeBundle: ${problem}`);
  const ids = checkProductIds(
    parts.productIds,
    manifest.candidate_count,
    manifest.product_id_dtype,
  );
  if ('problem' in ids) throw new Error(`writeBundle: product ids: ${ids.problem}`);

  const target = path.resolve(dir, ANN_DIR);
  const staging = `${target}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(staging, { recursive: true });
  try {
    await writeCandidates(path.join(staging, BUNDLE_FILES.candidates), candidates);
    await writeFile(path.join(staging, BUNDLE_FILES.productIds), JSON.stringify(parts.productIds));
    await writeFile(
      path.join(staging, BUNDLE_FILES.examples),
      `${JSON.stringify(parts.examples, null, 2)}\n`,
    );
    for (const input of manifest.inputs) {
      if (input.preprocessing.kind !== 'vocabulary') continue;
      const tokens = parts.vocabularies.get(input.name);
      if (!tokens) throw new Error(`writeBundle: no vocabulary for input "${input.name}"`);
      const file = resolveInside(staging, input.preprocessing.vocabulary_file, 'manifest.json');
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, formatVocabulary(tokens));
    }
    const modelJson = resolveInside(
      staging,
      manifest.query_model ?? DEFAULT_QUERY_MODEL,
      'manifest.json',
    );
    if (path.basename(modelJson) !== 'model.json')
      throw new Error('writeBundle: query_model must name a model.json');
    await parts.queryModel.save(fileSaveHandler(path.dirname(modelJson)));
    // Last, so the fingerprint hashes the files exactly as written.
    const written = await withFingerprint(manifest, parts.trainingRunId, {
      dir: staging,
      candidates,
      queryModelPath: modelJson,
    });
    await writeFile(
      path.join(staging, BUNDLE_FILES.manifest),
      `${JSON.stringify(written, null, 2)}\n`,
    );
    await rm(target, { recursive: true, force: true });
    await rename(staging, target);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  return target;
}

/** `manifest` with a fingerprint of the staged files when the training run is known. */
async function withFingerprint(
  manifest: Manifest,
  trainingRunId: string | undefined,
  files: Omit<FingerprintSource, 'manifest'>,
): Promise<Manifest> {
  if (trainingRunId === undefined) return manifest;
  // Any fingerprint the caller's manifest had described other files: replaced, not checked.
  const declared = { ...manifest, fingerprint: { training_run_id: trainingRunId } };
  const computed = await bundleFingerprint({ ...files, manifest: declared });
  return {
    ...manifest,
    fingerprint: {
      training_run_id: trainingRunId,
      query_model_sha256: computed.queryModelSha256,
      candidates_sha256: computed.candidatesSha256,
    },
  };
}
