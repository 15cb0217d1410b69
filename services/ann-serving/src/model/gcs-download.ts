/**
 * Downloads a gs:// model bundle into a local cache before loading. Only the
 * `ann/` part is fetched when the URI is a whole artifact (the TF SavedModel
 * beside it is for the native TF Serving route). A marker file written last
 * makes a completed download reusable and an interrupted one restart. The
 * Cloud Storage SDK is imported only when a gs:// path is configured.
 *
 * Nothing leaves the cache: the URI is checked segment by segment before
 * anything is deleted (`gs://b/../../victim` is refused, not resolved), the
 * bundle's directory must lie strictly inside the cache, and every listed
 * object name is checked before the first byte is written. One hostile name
 * (`ann/../../escape`) fails the download: such a bundle is not trustworthy.
 */
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PermanentError, type Logger } from '@recdeploy/shared';
import { localPathBelow, parseGsUri, planObjectDownloads } from '@recdeploy/shared/object-path';

const COMPLETE_MARKER = '.download-complete';
const MODEL_PATH_HINT =
  'MODEL_PATH takes gs://bucket/path URIs without empty, "." or ".." segments or their encoded forms';

/** The parts of a Cloud Storage bucket this module uses (a fake in tests). */
export interface BucketLike {
  getFiles(query: { prefix: string }): Promise<[readonly BucketFile[], ...unknown[]]>;
}

export interface BucketFile {
  readonly name: string;
  download(options: { destination: string }): Promise<unknown>;
}

export type OpenBucket = (name: string) => Promise<BucketLike>;

const openGcsBucket: OpenBucket = async (name) => {
  const { Storage } = await import('@google-cloud/storage');
  return new Storage().bucket(name);
};

/** Returns the local directory holding the downloaded bundle. */
export async function downloadGcsBundle(
  uri: string,
  cacheDir: string,
  logger: Logger,
  openBucket: OpenBucket = openGcsBucket,
): Promise<string> {
  const { bucket: bucketName, name: prefix } = parseGsUri(uri, MODEL_PATH_HINT);
  const target = bundleDirIn(path.resolve(cacheDir), bucketName, prefix, uri);
  if (await exists(path.join(target, COMPLETE_MARKER))) {
    logger.info('model bundle already downloaded', { uri, dir: target });
    return target;
  }
  const bucket = await openBucket(bucketName);
  const base = prefix === '' ? '' : `${prefix}/`;
  let [files] = await bucket.getFiles({ prefix: `${base}ann/` });
  if (files.length === 0) [files] = await bucket.getFiles({ prefix: base });
  if (files.length === 0) {
    throw new PermanentError('BUNDLE.INVALID', `no objects under ${uri}`, { metadata: { uri } });
  }
  // Every name is checked before the old copy is removed or a byte is written.
  const plan = planObjectDownloads(files, base, target, uri);
  if (plan.clashes.length > 0) {
    logger.warn('objects that other objects lie below skipped', { uri, objects: plan.clashes });
  }
  await rm(target, { recursive: true, force: true });
  const started = performance.now();
  for (const { object, destination } of plan.downloads) {
    await mkdir(path.dirname(destination), { recursive: true });
    await object.download({ destination });
  }
  await writeFile(path.join(target, COMPLETE_MARKER), new Date().toISOString());
  logger.info('model bundle downloaded', {
    uri,
    dir: target,
    objects: plan.downloads.length,
    seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
  });
  return target;
}

/** `{cache}/{bucket}/{prefix}`: it must lie strictly inside the cache, since it is deleted and rewritten. */
function bundleDirIn(cache: string, bucket: string, prefix: string, uri: string): string {
  const local = localPathBelow(cache, prefix === '' ? bucket : `${bucket}/${prefix}`);
  if ('problem' in local) {
    throw new PermanentError(
      'ARTIFACT.FORBIDDEN',
      `MODEL_PATH ${uri} has no safe directory in MODEL_CACHE_DIR ${cache}: ${local.problem}`,
      { metadata: { uri } },
    );
  }
  return local.path;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
