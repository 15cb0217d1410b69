/**
 * A bundle whose stored ANN index is broken in the way only a recall check
 * can see: built over the candidate vectors in reverse row order (so row r
 * of the index holds product N-1-r's vector), with index.json's
 * candidates_sha256 set to the bundle's real embeddings so the server's
 * manifest check (and the fingerprint) accept it and it serves wrong products
 * with good-looking scores.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  buildIndex,
  calibrationQueries,
  candidatesSha256,
  loadQueryEncoder,
  readBundle,
} from '@recdeploy/shared/ann';

/** Writes the broken index to `{bundleDir}/ann/index/` (bundleDir holds ann/). */
export async function writeBrokenIndex(bundleDir: string): Promise<void> {
  const bundle = await readBundle(bundleDir);
  const { count, dim, vectors } = bundle.candidates;
  const reversed = new Float32Array(vectors.length);
  for (let row = 0; row < count; row++) {
    reversed.set(vectors.subarray((count - 1 - row) * dim, (count - row) * dim), row * dim);
  }
  const encoder = await loadQueryEncoder(bundle);
  const indexDir = path.join(bundleDir, 'ann', 'index');
  try {
    await buildIndex({
      candidates: { count, dim, vectors: reversed },
      calibrationQueries: calibrationQueries(bundle, encoder, 100),
      outDir: indexDir,
    });
  } finally {
    encoder.dispose();
  }
  const manifestFile = path.join(indexDir, 'index.json');
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Record<string, unknown>;
  manifest.candidates_sha256 = candidatesSha256(bundle.candidates);
  await writeFile(manifestFile, JSON.stringify(manifest, null, 2));
}
