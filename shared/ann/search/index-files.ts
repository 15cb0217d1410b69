/**
 * The on-disk index: `<bundle>/ann/index/` holds the hnswlib graph file(s)
 * and `index.json` (this file's {@link IndexManifest}). The manifest pins the
 * embeddings the graphs were built from (count, dim, sha256), the transform
 * queries need, the calibrated ef and the recall report behind it.
 */
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PermanentError } from '../../errors.js';
import type { RecallReport } from './calibration.js';
import { INDEX_FORMAT_VERSION, manifestProblem } from './manifest-check.js';
import type { ShardFile } from './shard-build.js';
import type { TransformKind } from './vector-space.js';

export { INDEX_FORMAT_VERSION };

/** The manifest's file name inside the index directory. */
export const INDEX_MANIFEST = 'index.json';

/** index.json. */
export interface IndexManifest {
  readonly format_version: typeof INDEX_FORMAT_VERSION;
  /** hnswlib space of the graphs. */
  readonly space: 'ip' | 'l2';
  /** See vector-space.ts; each `mips-l2` shard carries its own `max_norm_squared`. */
  readonly transform: TransformKind;
  readonly m: number;
  readonly ef_construction: number;
  /** The calibrated search-time ef. */
  readonly ef: number;
  /** The k the recall was calibrated for. */
  readonly k: number;
  readonly count: number;
  readonly dim: number;
  /** One graph per shard (shard-plan.ts); a single graph is `hnsw.bin`. */
  readonly shards: readonly ShardFile[];
  /** sha256 of candidates.f32 the index was built from. */
  readonly candidates_sha256: string;
  /**
   * The training run whose embeddings these are (the bundle's declared
   * `fingerprint.training_run_id` at build time), so a mismatch names it.
   */
  readonly training_run_id?: string;
  readonly built_at: string;
  readonly build_seconds: number;
  readonly hnswlib_node_version: string;
  readonly recall: RecallReport;
}

/** The installed hnswlib-node version, recorded so a format change is traceable. */
export function hnswlibNodeVersion(): string {
  const pkg = createRequire(import.meta.url)('hnswlib-node/package.json') as { version: string };
  return pkg.version;
}

/** Writes index.json into `dir` (the staging dir: atomicity comes from atomic-dir.ts). */
export async function writeIndexManifest(dir: string, manifest: IndexManifest): Promise<void> {
  await fs.writeFile(path.join(dir, INDEX_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Finds the index directory from a bundle directory, its `ann/` directory or
 * the index directory itself.
 * @throws PermanentError `INDEX.NOT_FOUND` listing the places looked at.
 */
export async function resolveIndexDir(dir: string): Promise<string> {
  const candidates = [dir, path.join(dir, 'ann', 'index'), path.join(dir, 'index')];
  for (const candidate of candidates) {
    if (await isFile(path.join(candidate, INDEX_MANIFEST))) return candidate;
  }
  throw new PermanentError(
    'INDEX.NOT_FOUND',
    `no ${INDEX_MANIFEST} in ${candidates.join(', ')}; run \`recdeploy build-index\` on the bundle`,
    { metadata: { dir } },
  );
}

/** Reads and validates index.json. @throws PermanentError `INDEX.INVALID` naming the bad field. */
export async function readIndexManifest(indexDir: string): Promise<IndexManifest> {
  const file = path.join(indexDir, INDEX_MANIFEST);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fs.readFile(file, 'utf8'));
  } catch (error) {
    throw invalid(file, `cannot be read as JSON (${(error as Error).message})`, error);
  }
  const problem = manifestProblem(parsed);
  if (problem) throw invalid(file, problem);
  return parsed as IndexManifest;
}

function invalid(file: string, problem: string, cause?: unknown): PermanentError {
  return new PermanentError('INDEX.INVALID', `${file}: ${problem}`, {
    cause,
    metadata: { file },
  });
}

async function isFile(file: string): Promise<boolean> {
  return fs.stat(file).then(
    (stat) => stat.isFile(),
    () => false,
  );
}
