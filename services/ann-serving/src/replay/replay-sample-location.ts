/**
 * REPLAY_SAMPLE_URI: where the sample file lives. An absolute local path or
 * a `file://` URI (the local platform: under its data directory), or
 * `gs://bucket/object` (Cloud Run: the artifact bucket). Object names and
 * file:// paths are checked segment by segment as MODEL_PATH is
 * (@recdeploy/shared/object-path), so a crafted URI cannot climb out.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fileUriPathProblem, readGsUri } from '@recdeploy/shared/object-path';

export type ReplaySampleLocation =
  | { readonly kind: 'local'; readonly path: string }
  | { readonly kind: 'gs'; readonly bucket: string; readonly name: string };

/** The location REPLAY_SAMPLE_URI names, or why it names none. */
export function readReplaySampleUri(
  uri: string,
): { readonly location: ReplaySampleLocation } | { readonly problem: string } {
  if (uri.startsWith('gs://')) {
    const read = readGsUri(uri);
    if ('problem' in read) return { problem: read.problem };
    if (read.location.name === '' || uri.endsWith('/')) {
      return { problem: 'names a bucket or a folder, not an object (gs://bucket/path/file.json)' };
    }
    return { location: { kind: 'gs', ...read.location } };
  }
  if (/^file:/i.test(uri)) {
    const problem = fileUriPathProblem(uri);
    if (problem !== undefined) return { problem };
    let file: string;
    try {
      file = fileURLToPath(uri);
    } catch (error) {
      return { problem: `is not a file URL: ${(error as Error).message}` };
    }
    return localFile(file);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri)) {
    return { problem: 'takes an absolute path, a file:// URI or gs://bucket/object' };
  }
  if (!path.isAbsolute(uri)) {
    return { problem: 'is a relative path; give an absolute one (or file:// or gs://)' };
  }
  return localFile(uri);
}

function localFile(
  file: string,
): { readonly location: ReplaySampleLocation } | { readonly problem: string } {
  if (file.endsWith('/') || file.endsWith(path.sep))
    return { problem: 'names a directory, not a file' };
  return { location: { kind: 'local', path: path.resolve(file) } };
}
