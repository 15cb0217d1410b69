/**
 * A bundle's fingerprint (issue 16): which training run made it, and content
 * hashes of what the answers depend on, the query model's weights and the
 * candidate embeddings. ann-serving sends it with every predict answer and
 * verify compares it to the bundle of the run it verifies, so "the revision
 * serves this run's model" is checked, not assumed.
 *
 * - queryModelSha256: sha256 over the weight files model.json lists in
 *   `weightsManifest`, in that order, bytes streamed (the topology is left
 *   out: re-serialising model.json must not change the fingerprint).
 * - candidatesSha256: sha256 of candidates.f32, the value index.json records
 *   as `candidates_sha256` (search/checksum.ts).
 * - id: the first 16 hex characters of sha256(`${queryModelSha256}:${candidatesSha256}`).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { ModelFingerprint } from '../../domain/run-document.js';
import { readModelJson } from '../encoder/model-files.js';
import { candidatesSha256 } from '../search/checksum.js';
import type { CandidateMatrix } from '../types.js';
import { BUNDLE_FILES, bundleError } from './bundle-files.js';
import type { Manifest } from './manifest.js';

export type { ModelFingerprint };

/**
 * The response headers ann-serving answers every predict with, and verify
 * reads (lower case, as Node's fetch and http hand header names over).
 * Ids only: nothing in them is secret.
 */
export const RUN_ID_HEADER = 'x-recdeploy-run-id';
export const FINGERPRINT_HEADER = 'x-recdeploy-fingerprint';

/** Hex characters of the fingerprint id: short enough for a header and a log line. */
const ID_CHARS = 16;

/** What the fingerprint is computed from (a ModelBundle has all of it). */
export interface FingerprintSource {
  /** The bundle's `ann/` directory. */
  readonly dir: string;
  readonly manifest: Manifest;
  readonly candidates: CandidateMatrix;
  /** Absolute path of the query model's model.json. */
  readonly queryModelPath: string;
}

export interface FingerprintOptions {
  /** sha256 of the candidates when the caller has it already (~0.1 s per 100 MB to redo). */
  readonly candidatesSha256?: string;
}

/** The training run the manifest declares, if any (`fingerprint.training_run_id`). */
export function declaredTrainingRunId(manifest: Pick<Manifest, 'fingerprint'>): string | undefined {
  return manifest.fingerprint?.training_run_id;
}

/** The fingerprint id of these two hashes. */
export function fingerprintId(queryModelSha256: string, candidatesSha: string): string {
  return createHash('sha256')
    .update(`${queryModelSha256}:${candidatesSha}`)
    .digest('hex')
    .slice(0, ID_CHARS);
}

/**
 * Computes the bundle's fingerprint and checks it against the hashes the
 * manifest declares.
 * @throws PermanentError `BUNDLE.INVALID` naming the declared and the actual
 *   hash when the files are not the ones the manifest describes, or when a
 *   weight file cannot be read.
 */
export async function bundleFingerprint(
  bundle: FingerprintSource,
  options: FingerprintOptions = {},
): Promise<ModelFingerprint> {
  const queryModelSha256 = await queryModelWeightsSha256(bundle.queryModelPath);
  const candidatesSha = options.candidatesSha256 ?? candidatesSha256(bundle.candidates);
  const declared = bundle.manifest.fingerprint;
  const wrong = [
    mismatch('query_model_sha256', declared?.query_model_sha256, queryModelSha256),
    mismatch('candidates_sha256', declared?.candidates_sha256, candidatesSha),
  ].filter((problem): problem is string => problem !== undefined);
  if (wrong.length > 0) {
    throw bundleError(
      path.join(bundle.dir, BUNDLE_FILES.manifest),
      `fingerprint does not match the bundle's files: ${wrong.join('; ')}; ` +
        'the manifest and the files come from different training runs, or a file was changed after export',
    );
  }
  const trainingRunId = declaredTrainingRunId(bundle.manifest);
  return {
    ...(trainingRunId === undefined ? {} : { trainingRunId }),
    id: fingerprintId(queryModelSha256, candidatesSha),
    queryModelSha256,
    candidatesSha256: candidatesSha,
  };
}

/** sha256 over the query model's weight files, in the order model.json lists them. */
export async function queryModelWeightsSha256(modelJsonPath: string): Promise<string> {
  const { shards } = await readModelJson(modelJsonPath);
  const hash = createHash('sha256');
  for (const shard of shards) {
    try {
      for await (const chunk of createReadStream(shard)) hash.update(chunk as Buffer);
    } catch (error) {
      throw bundleError(shard, 'weight file cannot be read', error);
    }
  }
  return hash.digest('hex');
}

function mismatch(field: string, declared: string | undefined, actual: string): string | undefined {
  return declared === undefined || declared === actual
    ? undefined
    : `${field} declared ${declared}, the files hash to ${actual}`;
}
