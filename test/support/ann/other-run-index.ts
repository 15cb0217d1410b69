/**
 * A bundle standing for another training run's, carrying the index of the
 * source bundle: what a pipeline that pushed the wrong index directory looks
 * like. Every embedding is scaled by 0.5 (other candidates, same count and
 * dim, so only the checksum tells them apart), the manifest declares run
 * `runId` with the new candidates hash, and `ann/index/` is built from the
 * source's embeddings with the source's training run recorded, as
 * `buildIndex` records it.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  buildIndex,
  calibrationQueries,
  candidatesSha256,
  loadQueryEncoder,
  readBundle,
  type Manifest,
} from '@recdeploy/shared/ann';

/** Writes the bundle (an artifact directory holding ann/) into a temporary directory. */
export async function otherRunWithSourceIndex(sourceDir: string, runId: string): Promise<string> {
  const source = await readBundle(sourceDir);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'other-run-index-'));
  process.once('exit', () => void rm(dir, { recursive: true, force: true }));
  await cp(path.dirname(source.dir), dir, {
    recursive: true,
    filter: (file) => !file.split(path.sep).includes('index'),
  });
  const vectors = source.candidates.vectors.map((value) => value * 0.5);
  await writeFile(path.join(dir, 'ann', 'candidates.f32'), new Uint8Array(vectors.buffer));
  const manifestFile = path.join(dir, 'ann', 'manifest.json');
  const manifest = JSON.parse(await readFile(manifestFile, 'utf8')) as Manifest;
  const fingerprint = {
    ...manifest.fingerprint,
    training_run_id: runId,
    candidates_sha256: candidatesSha256({ ...source.candidates, vectors }),
  };
  await writeFile(manifestFile, JSON.stringify({ ...manifest, fingerprint }, null, 2));
  const encoder = await loadQueryEncoder(source);
  try {
    await buildIndex({
      candidates: source.candidates,
      calibrationQueries: calibrationQueries(source, encoder, 100),
      outDir: path.join(dir, 'ann', 'index'),
      trainingRunId: source.manifest.fingerprint?.training_run_id,
    });
  } finally {
    encoder.dispose();
  }
  return dir;
}
