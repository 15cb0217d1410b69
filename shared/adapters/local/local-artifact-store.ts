/**
 * ArtifactStore over the local filesystem, confined to configured root
 * directories: the embedded default for model bundles and built indexes.
 * Every URI is checked three times: segment by segment on its raw text (no
 * empty, `.` or `..` segment, nor an encoded one: object-path), lexically (the
 * path must lie below a root) and physically (its real path, symbolic links
 * resolved, must still lie below a root's real path), so neither `..` tricks
 * nor symlinks lead out.
 */
import { constants, type Stats } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, PermanentError } from '../../errors.js';
import type { Logger } from '../../logging/logger.port.js';
import type { ArtifactStore, LocalDirectory } from '../../ports/artifact-store.port.js';
import { copyTree, replaceWith, requireDirectory } from './directory-copy.js';
import {
  checkSubdir,
  errorCode,
  isMissing,
  isWithin,
  pathOfFileUri,
  realPathOfLongestExistingPrefix,
} from './file-uri-confinement.js';

/** readText's limit when the caller gives none (manifests, reports: small JSON). */
const DEFAULT_MAX_TEXT_BYTES = 1024 * 1024;

export interface LocalArtifactStoreOptions {
  /**
   * Absolute directories the store may read and write below (the deployables
   * read them from `ARTIFACT_ROOTS`). A root may itself be a symbolic link.
   */
  readonly roots: readonly string[];
  readonly logger: Logger;
}

/** ArtifactStore for `file://` URIs below the configured roots; see the module comment. */
export class LocalArtifactStore implements ArtifactStore {
  /** The roots, resolved (no trailing separator, no dot segments). */
  readonly roots: readonly string[];
  private readonly logger: Logger;

  constructor(options: LocalArtifactStoreOptions) {
    const problems: string[] = [];
    if (options.roots.length === 0) {
      problems.push('ARTIFACT_ROOTS: at least one artifact root directory is required');
    }
    for (const root of options.roots) {
      if (!path.isAbsolute(root)) {
        problems.push(`ARTIFACT_ROOTS: artifact root "${root}" is not an absolute path`);
      }
    }
    if (problems.length > 0) throw new ConfigError(problems);
    this.roots = options.roots.map((root) => path.resolve(root));
    this.logger = options.logger;
  }

  checkUri(uri: string): string {
    return pathToFileURL(this.resolveUri(uri)).href;
  }

  async exists(uri: string): Promise<boolean> {
    const target = this.resolveUri(uri);
    try {
      const stats = await stat(target);
      // An empty directory counts as absent, as an empty prefix does in Cloud Storage.
      return stats.isDirectory() ? (await readdir(target)).length > 0 : true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  async readText(uri: string, maxBytes = DEFAULT_MAX_TEXT_BYTES): Promise<string> {
    const file = this.resolveUri(uri);
    let handle: FileHandle;
    try {
      // O_NONBLOCK: opening a FIFO planted in a root must not hang the caller.
      handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (error) {
      throw fileSystemError(error, uri, file);
    }
    try {
      const stats = await handle.stat();
      if (!stats.isFile()) {
        throw new PermanentError('ARTIFACT.NOT_FOUND', `${uri} is not a regular file`, {
          metadata: { uri },
        });
      }
      if (stats.size > maxBytes) throw tooLarge(uri, stats.size, maxBytes);
      // Read at most one byte past the limit: a file growing after stat() is still caught.
      const contents = await readAtMost(handle, maxBytes + 1);
      if (contents.length > maxBytes) throw tooLarge(uri, contents.length, maxBytes);
      return contents.toString('utf8');
    } finally {
      await handle.close();
    }
  }

  /** Used in place: release() does nothing. */
  async openDirectory(uri: string, subdir?: string): Promise<LocalDirectory> {
    const base = this.resolveUri(uri);
    const dir =
      subdir === undefined ? base : this.confine(path.join(base, checkSubdir(subdir, uri)), uri);
    const shown = subdir === undefined ? uri : `${uri} (subdirectory ${subdir})`;
    let stats: Stats;
    try {
      stats = await stat(dir);
    } catch (error) {
      throw fileSystemError(error, shown, dir);
    }
    if (!stats.isDirectory()) {
      throw new PermanentError('ARTIFACT.NOT_FOUND', `${shown} is a file, not a directory`, {
        metadata: { uri },
      });
    }
    if ((await readdir(dir)).length === 0) {
      throw new PermanentError('ARTIFACT.NOT_FOUND', `${shown} is an empty directory`, {
        metadata: { uri },
      });
    }
    return { path: dir, release: () => Promise.resolve() };
  }

  /**
   * Copies `localDir` into a staging directory beside the target, then renames
   * it into place, replacing an existing target. A reader sees the old tree,
   * briefly nothing (between the two renames), or the new tree; never a mix.
   */
  async putDirectory(localDir: string, uri: string): Promise<void> {
    const target = this.resolveUri(uri);
    if (this.roots.includes(target)) {
      throw this.forbidden(uri, `${target} is an artifact root; write to a directory below it`);
    }
    const source = path.resolve(localDir);
    if (isWithin(target, source) || isWithin(source, target)) {
      throw new PermanentError(
        'INPUT.INVALID',
        `cannot copy ${source} to ${uri}: one contains the other`,
        { metadata: { uri, localDir } },
      );
    }
    await requireDirectory(source);
    const parent = path.dirname(target);
    await mkdir(parent, { recursive: true });
    // A dot name keeps the staging copy out of listings that skip hidden entries.
    const staging = await mkdtemp(path.join(parent, `.${path.basename(target)}.staging-`));
    try {
      const files = await copyTree(source, staging);
      await replaceWith(staging, target);
      this.logger.info('artifact directory written', { uri, files });
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** The absolute path a `file://` URI names, once it has passed every check. */
  private resolveUri(uri: string): string {
    return this.confine(
      pathOfFileUri(uri, () => this.configurationHint()),
      uri,
    );
  }

  /** Returns `candidate` if it lies below a root both lexically and after resolving symlinks. */
  private confine(candidate: string, uri: string): string {
    const resolved = path.resolve(candidate);
    if (!this.roots.some((root) => isWithin(resolved, root))) {
      throw this.forbidden(uri, `${resolved} is outside the configured artifact roots`);
    }
    let real: string;
    try {
      real = realPathOfLongestExistingPrefix(resolved);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw this.forbidden(uri, `${resolved} cannot be resolved safely: ${reason}`);
    }
    if (!this.realRoots().some((root) => isWithin(real, root))) {
      throw this.forbidden(
        uri,
        `${resolved} leads outside the configured artifact roots through a symbolic link (it resolves to ${real})`,
      );
    }
    return resolved;
  }

  /** Computed on every check: a root may be created or re-pointed after construction. */
  private realRoots(): string[] {
    return this.roots.flatMap((root) => {
      try {
        return [realPathOfLongestExistingPrefix(root)];
      } catch {
        return []; // a root behind a dangling link admits nothing
      }
    });
  }

  private forbidden(uri: string, reason: string): PermanentError {
    return new PermanentError('ARTIFACT.FORBIDDEN', `${reason}; ${this.configurationHint()}`, {
      metadata: { uri },
    });
  }

  private configurationHint(): string {
    return (
      `this store accepts file:// URIs below ${this.roots.join(', ')} ` +
      `(configured with ARTIFACT_ROOTS, directories separated by ",")`
    );
  }
}

/** Missing → ARTIFACT.NOT_FOUND, refused → ARTIFACT.FORBIDDEN; anything else as thrown. */
function fileSystemError(error: unknown, shown: string, file: string): unknown {
  if (isMissing(error)) {
    return new PermanentError('ARTIFACT.NOT_FOUND', `nothing at ${shown} (${file})`, {
      cause: error,
      metadata: { uri: shown },
    });
  }
  const code = errorCode(error);
  if (code === 'EACCES' || code === 'EPERM' || code === 'ELOOP') {
    return new PermanentError('ARTIFACT.FORBIDDEN', `cannot read ${shown} (${file}): ${code}`, {
      cause: error,
      metadata: { uri: shown },
    });
  }
  return error;
}

function tooLarge(uri: string, size: number, maxBytes: number): PermanentError {
  return new PermanentError(
    'ARTIFACT.TOO_LARGE',
    `${uri} is ${size} bytes, above the ${maxBytes}-byte limit for text artifacts`,
    { metadata: { uri, size, maxBytes } },
  );
}

async function readAtMost(handle: FileHandle, limit: number): Promise<Buffer> {
  const buffer = Buffer.alloc(limit);
  let filled = 0;
  while (filled < limit) {
    const { bytesRead } = await handle.read(buffer, filled, limit - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}
