/**
 * `gs://bucket/name` and `file:///path` URIs read before they name a bucket
 * prefix or a local directory: the bucket by Cloud Storage's naming rules,
 * the path segment by segment (object-name.ts). One trailing `/` is allowed
 * (a directory); `//`, `.`, `..` and their encoded forms are not.
 */
import { PermanentError } from '../errors.js';
import { objectNameProblem } from './object-name.js';

/** A parsed `gs://` URI; `name` has no trailing slash and is '' for the whole bucket. */
export interface GsLocation {
  readonly bucket: string;
  readonly name: string;
}

/** The location a `gs://` URI names, or why it names none. */
export function readGsUri(
  uri: string,
): { readonly location: GsLocation } | { readonly problem: string } {
  const match = /^gs:\/\/([^/]*)(?:\/(.*))?$/s.exec(uri);
  if (match === null) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1];
    return { problem: scheme === undefined ? 'is not a gs:// URI' : `uses the ${scheme}: scheme` };
  }
  const bucket = match[1] ?? '';
  const bucketProblem = bucketNameProblem(bucket);
  if (bucketProblem !== undefined) {
    return { problem: `has an invalid bucket name "${bucket}": ${bucketProblem}` };
  }
  const rest = match[2] ?? '';
  const name = rest.endsWith('/') ? rest.slice(0, -1) : rest;
  if (name === '' && rest !== '') {
    return { problem: 'has an empty object name segment ("//" after the bucket)' };
  }
  const problem = name === '' ? undefined : objectNameProblem(name);
  if (problem !== undefined) {
    return { problem: `has an unsafe object name ${JSON.stringify(name)}: ${problem}` };
  }
  return { location: { bucket, name } };
}

/**
 * Parses and checks a `gs://bucket/name` URI (readGsUri).
 * @param hint appended to the message: what the caller accepts instead.
 * @throws PermanentError `ARTIFACT.FORBIDDEN` naming the URI and the problem.
 */
export function parseGsUri(uri: string, hint?: string): GsLocation {
  const read = readGsUri(uri);
  if ('problem' in read) throw forbiddenUri(uri, read.problem, hint);
  return read.location;
}

/** The normal form: no trailing slash. */
export function gsUriOf(location: GsLocation): string {
  return location.name === ''
    ? `gs://${location.bucket}`
    : `gs://${location.bucket}/${location.name}`;
}

/**
 * Why the path of a `file://` URI has an unsafe segment, or undefined. Read
 * from the raw text, before a URL parser silently resolves `..` and `%2e%2e`
 * (and, for file: URLs, turns backslashes into `/`). The host part
 * (`file://localhost/…`) is not checked here.
 */
export function fileUriPathProblem(uri: string): string | undefined {
  // A query or fragment is not part of the path (the local store refuses them anyway).
  const rawPath = uri.replace(/^file:\/\/[^/\\]*/i, '').replace(/[?#].*$/s, '');
  if (rawPath === '' || rawPath === '/') return undefined;
  const problem = objectNameProblem(rawPath.replace(/^\//, '').replace(/\/$/, ''));
  return problem === undefined ? undefined : `has an unsafe path: ${problem}`;
}

/**
 * Bucket naming rules of Cloud Storage,
 * https://cloud.google.com/storage/docs/buckets#naming. They also keep a
 * bucket name a safe single path segment (never `.`, `..` or empty).
 */
export function bucketNameProblem(bucket: string): string | undefined {
  if (!/^[a-z0-9][a-z0-9._-]*[a-z0-9]$/.test(bucket)) {
    return 'use lowercase letters, digits, "-", "_" and ".", starting and ending with a letter or digit';
  }
  if (bucket.length < 3 || bucket.length > 222) return 'it must be 3 to 222 characters long';
  if (!bucket.includes('.') && bucket.length > 63)
    return 'without dots it must be at most 63 characters';
  if (bucket.split('.').some((part) => part === '' || part.length > 63)) {
    return 'each dot-separated part must be 1 to 63 characters';
  }
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) return 'it must not look like an IP address';
  if (bucket.startsWith('goog') || bucket.includes('google')) {
    return 'it must not start with "goog" or contain "google"';
  }
  return undefined;
}

function forbiddenUri(uri: string, problem: string, hint: string | undefined): PermanentError {
  return new PermanentError(
    'ARTIFACT.FORBIDDEN',
    `artifact URI ${uri} ${problem}${hint === undefined ? '' : `; ${hint}`}`,
    { metadata: { uri } },
  );
}
