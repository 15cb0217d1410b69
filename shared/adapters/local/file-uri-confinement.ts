/**
 * Where a `file://` URI of the local artifact store points, and whether it
 * stays below a root: segments checked on the raw text (object-path), then
 * lexical containment, then the real path with symbolic links resolved.
 */
import { lstatSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PermanentError } from '../../errors.js';
import { fileUriPathProblem, objectNameProblem } from '../../domain/object-path.js';

/**
 * Parses a `file://` URI into a path. Segments are checked on the raw text,
 * before the URL parser silently normalises dot segments away (it also turns
 * `%2e%2e` and backslashes into `..` and `/` for file: URLs).
 */
export function pathOfFileUri(uri: string, hint: () => string): string {
  const reject = (reason: string): PermanentError =>
    new PermanentError('ARTIFACT.FORBIDDEN', `artifact URI ${uri} ${reason}; ${hint()}`, {
      metadata: { uri },
    });
  if (!/^file:\/\//i.test(uri)) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1];
    throw reject(
      scheme === undefined
        ? 'is not a file:// URI'
        : `uses the ${scheme}: scheme; this local store accepts only file:// URIs`,
    );
  }
  if (uri.includes('\0') || /%00/.test(uri)) throw reject('contains a NUL byte');
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw reject('is not a valid URL');
  }
  if (url.hostname !== '' && url.hostname !== 'localhost') {
    throw reject(
      `names the host "${url.hostname}"; write an absolute path with three slashes, e.g. file:///data/models`,
    );
  }
  if (url.search !== '' || url.hash !== '') {
    throw reject('has a query or fragment (encode "?" as %3F and "#" as %23 in file names)');
  }
  const pathProblem = fileUriPathProblem(uri);
  if (pathProblem !== undefined) throw reject(pathProblem);
  try {
    return fileURLToPath(url);
  } catch (error) {
    throw reject(`cannot be turned into a path: ${(error as Error).message}`);
  }
}

/** A relative subdirectory of safe segments (the port's `subdir` argument). */
export function checkSubdir(subdir: string, uri: string): string {
  const problem = objectNameProblem(subdir);
  if (problem !== undefined) {
    throw new PermanentError(
      'ARTIFACT.FORBIDDEN',
      `subdirectory ${JSON.stringify(subdir)} of ${uri} must be a relative path of safe segments: ${problem}`,
      { metadata: { uri, subdir } },
    );
  }
  return subdir;
}

/** Path-segment aware: `/data/root2` is not within `/data/root`. */
export function isWithin(candidate: string, root: string): boolean {
  const relative = path.relative(root, candidate);
  return (
    relative === '' ||
    (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative))
  );
}

/**
 * The real path of `target`, symbolic links resolved; for a path that does not
 * exist yet (a putDirectory target), the real path of its deepest existing
 * ancestor with the missing part appended. A dangling symlink on the way is
 * refused: what it would lead to once its target appears is unknown.
 */
export function realPathOfLongestExistingPrefix(target: string): string {
  const missing: string[] = [];
  let existing = target;
  for (;;) {
    try {
      return path.join(realpathSync.native(existing), ...missing);
    } catch (error) {
      if (!isMissing(error)) throw error;
      if (isSymbolicLink(existing)) throw new Error(`${existing} is a dangling symbolic link`);
      const parent = path.dirname(existing);
      if (parent === existing) throw error;
      missing.unshift(path.basename(existing));
      existing = parent;
    }
  }
}

function isSymbolicLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isMissing(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}
