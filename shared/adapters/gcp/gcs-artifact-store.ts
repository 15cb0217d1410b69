/**
 * ArtifactStore over Cloud Storage (`gs://bucket/prefix` URIs). Directories
 * are object-name prefixes: openDirectory downloads everything below one into
 * a fresh temporary directory, putDirectory uploads a local tree file by file
 * with the directory's marker file last. The client library is loaded and the
 * client created on first use, never at import.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Bucket, File, Storage, StorageOptions } from '@google-cloud/storage';
import { PermanentError } from '../../errors.js';
import type { Logger } from '../../logging/logger.port.js';
import type { ArtifactStore, LocalDirectory } from '../../ports/artifact-store.port.js';
import {
  gsUriOf,
  objectNameProblem,
  parseGsUri,
  planObjectDownloads,
  type GsLocation,
} from '../../domain/object-path.js';
import { httpStatusOf, toStorageError, tooLarge } from './gcs-storage-errors.js';
import { forEachLimited, listFiles, uploadOrder } from './gcs-transfers.js';

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

/** What this store accepts instead, appended to every refused URI. */
const URI_HINT =
  'the Cloud Storage store accepts only gs://bucket/path URIs ' +
  '(file:// URIs need the local store, configured with ARTIFACT_ROOTS)';

/**
 * Parses and checks a `gs://bucket/name` URI (object-path: bucket naming
 * rules, every segment of the name safe as a local path segment).
 * @throws PermanentError `ARTIFACT.FORBIDDEN` naming the problem.
 */
function parseStoreUri(uri: string): GsLocation {
  return parseGsUri(uri, URI_HINT);
}

/** The object-name prefix of everything below `name` ('' for the whole bucket). */
function directoryPrefix(name: string): string {
  return name === '' ? '' : `${name}/`;
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
    return gsUriOf(parseStoreUri(uri));
  }

  async exists(uri: string): Promise<boolean> {
    const location = parseStoreUri(uri);
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
    const location = parseStoreUri(uri);
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
   * temporary directory. Object names are not trusted: every name is checked
   * before anything is downloaded, and one with an empty, `.` or `..` segment
   * (or an encoded form of one) fails the whole download with
   * `ARTIFACT.FORBIDDEN`: a directory holding it is not trustworthy. An object
   * that other objects lie below (`a` beside `a/b`) is skipped with a warning.
   */
  async openDirectory(uri: string, subdir?: string): Promise<LocalDirectory> {
    const location = parseStoreUri(uri);
    const name = [location.name, subdir ?? ''].filter((part) => part !== '').join('/');
    const subdirProblem = subdir === undefined ? undefined : objectNameProblem(subdir);
    const nameProblem = subdirProblem ?? (name === '' ? undefined : objectNameProblem(name));
    if (nameProblem !== undefined) {
      throw new PermanentError(
        'ARTIFACT.FORBIDDEN',
        `subdirectory ${JSON.stringify(subdir)} of ${uri} must be a relative path of safe segments: ${nameProblem}`,
        { metadata: { uri, subdir: subdir ?? null } },
      );
    }
    const shown = gsUriOf({ bucket: location.bucket, name });
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
      const { downloads, clashes } = planObjectDownloads(files, prefix, dir, shown);
      if (clashes.length > 0) {
        this.options.logger.warn('objects that other objects lie below skipped', {
          uri: shown,
          objects: clashes,
        });
      }
      if (downloads.length === 0) {
        throw new PermanentError('ARTIFACT.NOT_FOUND', `no objects under ${shown}/`, {
          metadata: { uri: shown, skipped: clashes.length },
        });
      }
      await forEachLimited(downloads, this.options.downloadConcurrency ?? 8, async (item) => {
        await mkdir(path.dirname(item.destination), { recursive: true });
        await item.object.download({ destination: item.destination });
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
    const location = parseStoreUri(uri);
    const markers = new Set(this.options.markerFileNames ?? DEFAULT_MARKER_FILE_NAMES);
    const order = uploadOrder(await listFiles(localDir), markers);
    const destination = (relative: string): string =>
      [location.name, relative].filter((part) => part !== '').join('/');
    // A local file name can hold what a reader of the bucket would refuse (a backslash, `%2e%2e`).
    for (const relative of order) {
      const problem = objectNameProblem(destination(relative));
      if (problem !== undefined) {
        throw new PermanentError(
          'INPUT.INVALID',
          `${path.join(localDir, relative)} cannot be uploaded to ${uri}, its object name is unsafe: ${problem}`,
          { metadata: { uri, localDir, file: relative } },
        );
      }
    }
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
