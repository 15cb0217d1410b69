/**
 * File names inside a bundle's `ann/` directory (DESIGN.md §5), where a bundle
 * directory is found, and the one rule for paths the manifest names: they stay
 * inside `ann/`, because bundles arrive from buckets we do not control.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { PermanentError } from '../../errors.js';

/** Fixed file names inside `ann/` (vocabularies and the query model are named by the manifest). */
export const BUNDLE_FILES = {
  manifest: 'manifest.json',
  candidates: 'candidates.f32',
  productIds: 'product_ids.json',
  examples: 'examples.json',
} as const;

/** The `ann/` directory name inside a model artifact. */
export const ANN_DIR = 'ann';

/** A precise bundle error: which file, what is wrong. */
export function bundleError(file: string, problem: string, cause?: unknown): PermanentError {
  return new PermanentError('BUNDLE.INVALID', `${file}: ${problem}`, {
    metadata: { file },
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Resolves `relative` inside `root`, refusing absolute paths and escapes such as `../x`. */
export function resolveInside(root: string, relative: string, file: string): string {
  const resolved = path.resolve(root, relative);
  const within = path.relative(root, resolved);
  if (
    path.isAbsolute(relative) ||
    within === '' ||
    within.startsWith('..') ||
    path.isAbsolute(within)
  ) {
    throw bundleError(
      file,
      `path ${JSON.stringify(relative)} must be relative and stay inside ${root}`,
    );
  }
  return resolved;
}

/**
 * The `ann/` directory of a bundle: `dir` itself when it holds manifest.json,
 * else `dir/ann` (a model artifact such as TFX's pushed_model).
 */
export async function locateAnnDir(dir: string): Promise<string> {
  const root = path.resolve(dir);
  for (const candidate of [root, path.join(root, ANN_DIR)]) {
    if (await isFile(path.join(candidate, BUNDLE_FILES.manifest))) return candidate;
  }
  throw bundleError(
    path.join(root, ANN_DIR, BUNDLE_FILES.manifest),
    `not found (looked for ${BUNDLE_FILES.manifest} in ${root} and in ${path.join(root, ANN_DIR)})`,
  );
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}
