/**
 * Downloads a gs:// model bundle into a local cache before loading. Only the
 * `ann/` part is fetched when the URI is a whole artifact (the TF SavedModel
 * beside it is for the native TF Serving route). A marker file written last
 * makes a completed download reusable and an interrupted one restart. The
 * Cloud Storage SDK is imported only when a gs:// path is configured.
 */
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PermanentError, type Logger } from '@recdeploy/shared';

const COMPLETE_MARKER = '.download-complete';

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
  const match = /^gs:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new PermanentError('CONFIG.INVALID', `not a gs:// URI: ${uri}`);
  const bucketName = match[1]!;
  const prefix = (match[2] ?? '').replace(/\/+$/, '');
  const target = path.resolve(cacheDir, bucketName, ...prefix.split('/').filter(Boolean));
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
  await rm(target, { recursive: true, force: true });
  const started = performance.now();
  let downloaded = 0;
  for (const file of files) {
    if (file.name.endsWith('/')) continue;
    const destination = path.join(target, ...file.name.slice(base.length).split('/'));
    // Object names are not trusted: nothing is written outside the bundle's directory.
    if (!destination.startsWith(target + path.sep)) continue;
    await mkdir(path.dirname(destination), { recursive: true });
    await file.download({ destination });
    downloaded++;
  }
  await writeFile(path.join(target, COMPLETE_MARKER), new Date().toISOString());
  logger.info('model bundle downloaded', {
    uri,
    dir: target,
    objects: downloaded,
    seconds: Number(((performance.now() - started) / 1000).toFixed(2)),
  });
  return target;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}
