/**
 * MODEL_PATH → a local directory to load. `file://` URLs and plain paths are
 * used in place; `gs://` bundles are downloaded first (gcs-download.ts),
 * which loads the Cloud Storage SDK only when a gs:// path is configured.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@recdeploy/shared';

/** The local directory holding the bundle named by MODEL_PATH. */
export async function localModelDir(
  modelPath: string,
  cacheDir: string,
  logger: Logger,
): Promise<string> {
  if (modelPath.startsWith('gs://')) {
    const { downloadGcsBundle } = await import('./gcs-download.js');
    return downloadGcsBundle(modelPath, cacheDir, logger);
  }
  if (modelPath.startsWith('file://')) return fileURLToPath(modelPath);
  return path.resolve(modelPath);
}
