/**
 * Bundles in the rehearsal's bucket: a directory copied into the Cloud
 * Storage fake object by object (the layout `gcloud storage cp -r` makes),
 * and files of a stored bundle read back.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { GcsJsonFake } from '../fakes/gcs-json-fake.js';

/** Copies `sourceDir` under `gs://{bucket}/{name}/`; returns that URI. */
export async function uploadBundle(
  gcs: GcsJsonFake,
  bucket: string,
  sourceDir: string,
  name: string,
): Promise<string> {
  const entries = await readdir(sourceDir, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const object = `${name}/${path.relative(sourceDir, file).split(path.sep).join('/')}`;
    gcs.putObject(bucket, object, await readFile(file), 'application/octet-stream');
  }
  return `gs://${bucket}/${name}`;
}

/** The text of `relativePath` below a `gs://` bundle URI, as the fake stores it. */
export function readStoredFile(gcs: GcsJsonFake, bundleUri: string, relativePath: string): string {
  const match = /^gs:\/\/([^/]+)\/(.+?)\/?$/.exec(bundleUri);
  if (match === null) throw new Error(`not a gs:// bundle URI: ${bundleUri}`);
  const object = `${match[2]}/${relativePath}`;
  const stored = gcs.getObject(match[1] ?? '', object);
  if (stored === undefined) {
    throw new Error(
      `no object ${object} in gs://${match[1]}: ${gcs.objectNames(match[1] ?? '').join(', ')}`,
    );
  }
  return stored.data.toString('utf8');
}
