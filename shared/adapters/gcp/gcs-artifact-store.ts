/**
 * ArtifactStore over Cloud Storage (`gs://bucket/prefix` URIs). Directories
 * are object-name prefixes: openDirectory downloads everything below one into
 * a fresh temporary directory, putDirectory uploads a local tree file by file
 * with the directory's marker file last. The client library is loaded and the
 * client created on first use, never at import.
 */
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Bucket, File, Storage, StorageOptions } from '@google-cloud/storage';
import { PermanentError, RecdeployError, TransientError } from '../../errors.js';
import type { Logger } from '../../logging/logger.port.js';
import type { ArtifactStore, LocalDirectory } from '../../ports/artifact-store.port.js';

/** readText's limit when the caller gives none (manifests, reports: small JSON). */
const DEFAULT_MAX_TEXT_BYTES = 1024 * 1024;
/** Marker files uploaded last unless the options name others. */
const DEFAULT_MARKER_FILE_NAMES: readonly string[] = ['index.json', '.complete'];

export interface GcsArtifactStoreOptions {
  readonly logger: Logger;
  /** Where openDirectory creates its temporary directories; default `os.tmpdir()`. */
  readonly tmpDir?: string;
  /**
   * Passed to `new Storage()`. Tests set `apiEndpoint` to a local fake; with a
   * custom endpoint the client sends no credentials unless `useAuthWithCustomEndpoint`.
   */
  readonly storageOptions?: StorageOptions;
  /**
   * File names (at any depth) putDirectory uploads after every other file,
   * deepest first, so a reader that waits for the marker sees a whole
   * directory. Callers write their marker last; default `index.json`, `.complete`.
   */
  readonly markerFileNames?: readonly string[];
  /** Objects openDirectory downloads at the same time; default 8. */
  readonly downloadConcurrency?: number;
}

/** A parsed `gs://` URI; `name` has no trailing slash and is '' for the whole bucket. */
export interface GcsLocation {
  readonly bucket: string;
  readonly name: string;
}

/**
 * Parses and checks a `gs://bucket/name` URI: bucket naming rules, no `.`/`..`
 * or empty segments, no leading slash or control characters in the name.
 * @throws PermanentError `ARTIFACT.FORBIDDEN` naming the problem.
 */
export function parseGsUri(uri: string): GcsLocation {
  const reject = (reason: string): PermanentError =>
    new PermanentError(
      'ARTIFACT.FORBIDDEN',
      `artifact URI ${uri} ${reason}; the Cloud Storage store accepts only gs://bucket/path URIs ` +
        '(file:// URIs need the local store, configured with ARTIFACT_ROOTS)',
      { metadata: { uri } },
    );
  const match = /^gs:\/\/([^/]*)(?:\/(.*))?$/s.exec(uri);
  if (match === null) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1];
    throw reject(scheme === undefined ? 'is not a gs:// URI' : `uses the ${scheme}: scheme`);
  }
  const bucket = match[1] ?? '';
  const bucketProblem = bucketNameProblem(bucket);
  if (bucketProblem !== undefined)
    throw reject(`has an invalid bucket name "${bucket}": ${bucketProblem}`);
  const name = (match[2] ?? '').replace(/\/+$/, '');
  const nameProblem = name === '' ? undefined : relativeNameProblem(name);
  if (nameProblem !== undefined) throw reject(`has an unsafe object name: ${nameProblem}`);
  return { bucket, name };
}

/** Bucket naming rules of Cloud Storage (cloud.google.com/storage/docs/buckets#naming). */
function bucketNameProblem(bucket: string): string | undefined {
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

/** Why an object name (or part of one) cannot be mapped safely to a relative local path. */
function relativeNameProblem(name: string): string | undefined {
  if (name.startsWith('/')) return `"${name}" starts with "/"`;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(name)) return `"${name}" contains a control character`;
  if (Buffer.byteLength(name) > 1024) return 'it is longer than 1024 bytes';
  const bad = name
    .split('/')
    .find((segment) => segment === '' || segment === '.' || segment === '..');
  if (bad !== undefined) return `"${name}" has an empty, "." or ".." path segment`;
  return undefined;
}

/** The object-name prefix of everything below `name` ('' for the whole bucket). */
function directoryPrefix(name: string): string {
  return name === '' ? '' : `${name}/`;
}

function gsUri(location: GcsLocation): string {
  return location.name === ''
    ? `gs://${location.bucket}`
    : `gs://${location.bucket}/${location.name}`;
}

/** ArtifactStore for `gs://` URIs; see the module comment. */
export class GcsArtifactStore implements ArtifactStore {
  private readonly options: GcsArtifactStoreOptions;
  private client: Promise<Storage> | undefined;
  /** Temporary directories handed out and not released yet; close() removes them. */
  private readonly openDirectories = new Set<string>();

  constructor(options: GcsArtifactStoreOptions) {
    this.options = options;
  }

  checkUri(uri: string): string {
    return gsUri(parseGsUri(uri));
  }

  async exists(uri: string): Promise<boolean> {
    const location = parseGsUri(uri);
    const bucket = await this.bucket(location.bucket);
    try {
      if (location.name !== '') {
        const [found] = await bucket.file(location.name).exists();
        if (found) return true;
      }
      const [files] = await bucket.getFiles({
        prefix: directoryPrefix(location.name),
        maxResults: 1,
      });
      return files.length > 0;
    } catch (error) {
      if (httpStatusOf(error) === 404) return false; // the bucket itself is missing
      throw toStorageError(error, 'exists', uri);
    }
  }

  async readText(uri: string, maxBytes = DEFAULT_MAX_TEXT_BYTES): Promise<string> {
    const location = parseGsUri(uri);
    if (location.name === '') {
      throw new PermanentError('ARTIFACT.NOT_FOUND', `${uri} names a bucket, not an object`, {
        metadata: { uri },
      });
    }
    const bucket = await this.bucket(location.bucket);
    try {
      const [metadata] = await bucket.file(location.name).getMetadata();
      const size = Number(metadata.size ?? 0);
      if (size > maxBytes) throw tooLarge(uri, size, maxBytes);
      // Pinning the generation downloads exactly the object whose size was checked.
      const pinned = bucket.file(location.name, { generation: metadata.generation });
      const [contents] = await pinned.download();
      if (contents.length > maxBytes) throw tooLarge(uri, contents.length, maxBytes);
      return contents.toString('utf8');
    } catch (error) {
      throw toStorageError(error, 'read', uri);
    }
  }

  /**
   * Downloads every object below `uri/` (or `uri/subdir/`) into a fresh
   * temporary directory. Object names are not trusted: a name with an empty,
   * `.` or `..` segment, or one that would turn a file into a directory, is
   * skipped with a warning, and nothing is written outside the directory.
   */
  async openDirectory(uri: string, subdir?: string): Promise<LocalDirectory> {
    const location = parseGsUri(uri);
    const subdirProblem = subdir === undefined ? undefined : relativeNameProblem(subdir);
    if (subdirProblem !== undefined) {
      throw new PermanentError(
        'ARTIFACT.FORBIDDEN',
        `subdirectory of ${uri} must be a relative path: ${subdirProblem}`,
        { metadata: { uri, subdir: subdir ?? null } },
      );
    }
    const name = [location.name, subdir ?? ''].filter((part) => part !== '').join('/');
    const shown = gsUri({ bucket: location.bucket, name });
    const prefix = directoryPrefix(name);
    const bucket = await this.bucket(location.bucket);
    const started = performance.now();
    let files: File[];
    try {
      [files] = await bucket.getFiles({ prefix });
    } catch (error) {
      throw toStorageError(error, 'list', shown);
    }
    const parent = path.resolve(this.options.tmpDir ?? os.tmpdir());
    const dir = await mkdtemp(path.join(parent, 'recdeploy-gcs-'));
    try {
      const { downloads, skipped } = planDownloads(files, prefix, dir);
      if (skipped.length > 0) {
        this.options.logger.warn('unsafe object names skipped', { uri: shown, objects: skipped });
      }
      if (downloads.length === 0) {
        throw new PermanentError('ARTIFACT.NOT_FOUND', `no objects under ${shown}/`, {
          metadata: { uri: shown, skipped: skipped.length },
        });
      }
      await forEachLimited(downloads, this.options.downloadConcurrency ?? 8, async (item) => {
        await mkdir(path.dirname(item.destination), { recursive: true });
        await item.file.download({ destination: item.destination });
      });
      this.options.logger.info('artifact directory downloaded', {
        uri: shown,
        dir,
        objects: downloads.length,
        ms: Math.round(performance.now() - started),
      });
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw toStorageError(error, 'download', shown);
    }
    this.openDirectories.add(dir);
    return {
      path: dir,
      release: async () => {
        this.openDirectories.delete(dir);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }

  /**
   * Uploads every file below `localDir` to `uri/<relative path>`, one at a
   * time: sorted, marker files last. An existing marker is deleted first, so
   * a reader never takes a half-replaced directory for a complete one.
   * Objects already below `uri` that `localDir` lacks are left in place.
   */
  async putDirectory(localDir: string, uri: string): Promise<void> {
    const location = parseGsUri(uri);
    const markers = new Set(this.options.markerFileNames ?? DEFAULT_MARKER_FILE_NAMES);
    const order = uploadOrder(await listFiles(localDir), markers);
    const destination = (relative: string): string =>
      [location.name, relative].filter((part) => part !== '').join('/');
    const bucket = await this.bucket(location.bucket);
    try {
      for (const relative of order.filter((file) => markers.has(path.posix.basename(file)))) {
        await bucket.file(destination(relative)).delete({ ignoreNotFound: true });
      }
      for (const relative of order) {
        await bucket.upload(path.join(localDir, ...relative.split('/')), {
          destination: destination(relative),
          resumable: false,
        });
      }
    } catch (error) {
      throw toStorageError(error, 'upload', uri);
    }
    this.options.logger.info('artifact directory uploaded', { uri, objects: order.length });
  }

  /** Removes temporary directories that were never released. */
  async close(): Promise<void> {
    const dirs = [...this.openDirectories];
    this.openDirectories.clear();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    this.client = undefined;
  }

  private async bucket(name: string): Promise<Bucket> {
    this.client ??= import('@google-cloud/storage').then(
      ({ Storage: StorageClient }) => new StorageClient(this.options.storageOptions),
      (error: unknown) => {
        this.client = undefined;
        throw error;
      },
    );
    return (await this.client).bucket(name);
  }
}

interface PlannedDownload {
  readonly file: File;
  readonly destination: string;
}

function planDownloads(
  files: readonly File[],
  prefix: string,
  dir: string,
): { downloads: PlannedDownload[]; skipped: string[] } {
  const skipped: string[] = [];
  const candidates: { file: File; relative: string }[] = [];
  for (const file of files) {
    if (file.name.endsWith('/')) continue; // a folder placeholder, not content
    const relative = file.name.slice(prefix.length);
    if (!file.name.startsWith(prefix) || relativeNameProblem(relative) !== undefined) {
      skipped.push(file.name);
    } else {
      candidates.push({ file, relative });
    }
  }
  // `a` and `a/b` cannot both exist on disk: the object that would be a directory loses.
  const directories = new Set(
    candidates.flatMap(({ relative }) =>
      relative
        .split('/')
        .slice(0, -1)
        .map((_, index, parts) => parts.slice(0, index + 1).join('/')),
    ),
  );
  const downloads: PlannedDownload[] = [];
  for (const { file, relative } of candidates) {
    const destination = path.join(dir, ...relative.split('/'));
    // Belt and braces: relativeNameProblem already refused every way out.
    if (directories.has(relative) || !destination.startsWith(dir + path.sep)) {
      skipped.push(file.name);
    } else {
      downloads.push({ file, destination });
    }
  }
  return { downloads, skipped };
}

/** Sorted paths, marker files after all others, deeper markers before shallower ones. */
function uploadOrder(files: readonly string[], markers: ReadonlySet<string>): string[] {
  const isMarker = (file: string): boolean => markers.has(path.posix.basename(file));
  const depth = (file: string): number => file.split('/').length;
  const sorted = [...files].sort();
  return [
    ...sorted.filter((file) => !isMarker(file)),
    ...sorted.filter(isMarker).sort((a, b) => depth(b) - depth(a)),
  ];
}

/** Relative `/`-separated paths of the regular files below `root` (symlinks followed). */
async function listFiles(root: string): Promise<string[]> {
  const stats = await stat(root).catch(() => undefined);
  if (stats?.isDirectory() !== true) {
    throw new PermanentError('INPUT.INVALID', `source directory ${root} does not exist`, {
      metadata: { localDir: root },
    });
  }
  const files: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    for (const entry of await readdir(path.join(root, relative), { withFileTypes: true })) {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile() || (await stat(path.join(root, child))).isFile()) files.push(child);
    }
  };
  await walk('');
  if (files.length === 0) {
    throw new PermanentError('INPUT.INVALID', `source directory ${root} holds no files`, {
      metadata: { localDir: root },
    });
  }
  return files;
}

/**
 * Runs `work` on every item, at most `limit` at a time. After a failure no new
 * item starts, and it waits for the running ones before rejecting, so the
 * caller's clean-up never races a download still writing.
 */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const failures: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (failures.length === 0 && next < items.length) {
      const item = items[next++] as T;
      await work(item).catch((error: unknown) => {
        failures.push(error);
      });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failures.length > 0) throw failures[0];
}

function tooLarge(uri: string, size: number, maxBytes: number): PermanentError {
  return new PermanentError(
    'ARTIFACT.TOO_LARGE',
    `${uri} is ${size} bytes, above the ${maxBytes}-byte limit for text artifacts`,
    { metadata: { uri, size, maxBytes } },
  );
}

/** The HTTP status of a Cloud Storage client error (its `code`), if it has one. */
function httpStatusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'number') return code;
  return typeof code === 'string' && /^\d{3}$/.test(code) ? Number(code) : undefined;
}

/**
 * 404 → `ARTIFACT.NOT_FOUND`; 401/403 and other refusals → `ARTIFACT.FORBIDDEN`
 * (permanent: retrying does not fix IAM or a bad name); 408, 429, 5xx and
 * failures without an HTTP status (network, integrity check, local disk) →
 * TransientError `DEPENDENCY.UNAVAILABLE`.
 */
function toStorageError(error: unknown, action: string, uri: string): RecdeployError {
  if (error instanceof RecdeployError) return error;
  const status = httpStatusOf(error);
  const options = { cause: error, metadata: { uri, action, httpStatus: status ?? null } };
  const message = `Cloud Storage ${action} of ${uri} failed${
    status === undefined ? '' : ` (HTTP ${status})`
  }: ${describe(error)}`;
  if (status === 404) return new PermanentError('ARTIFACT.NOT_FOUND', message, options);
  if (status === undefined || status === 408 || status === 429 || status >= 500) {
    return new TransientError('DEPENDENCY.UNAVAILABLE', message, options);
  }
  return new PermanentError('ARTIFACT.FORBIDDEN', message, options);
}

/** The error's message; a JSON API error body (downloads report those raw) is unwrapped. */
function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  try {
    const body = JSON.parse(message) as { error?: { message?: unknown } };
    if (typeof body.error?.message === 'string') return body.error.message;
  } catch {
    // not JSON: the message is already readable
  }
  return message;
}
