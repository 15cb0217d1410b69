/**
 * Reads model bundles and writes built indexes (Cloud Storage in the cloud,
 * the local filesystem confined to configured roots on one machine).
 */

/** A local directory holding (a copy of) artifacts; release() removes a temporary copy. */
export interface LocalDirectory {
  readonly path: string;
  release(): Promise<void>;
}

export interface ArtifactStore {
  /**
   * Checks that this store may touch `uri` and returns its normal form.
   * @throws PermanentError `ARTIFACT.FORBIDDEN` (wrong scheme, outside the
   *   configured roots, `..` tricks, symlinks leading out) with a clear message.
   */
  checkUri(uri: string): string;
  /** True when an object (or, for a directory URI, anything below it) exists. */
  exists(uri: string): Promise<boolean>;
  /**
   * Reads a small text file.
   * @throws PermanentError `ARTIFACT.NOT_FOUND` when absent, `ARTIFACT.TOO_LARGE` above maxBytes.
   */
  readText(uri: string, maxBytes?: number): Promise<string>;
  /**
   * A local directory with everything below `uri` (only below `uri/subdir`
   * when given). file:// URIs are used in place (release() does nothing);
   * gs:// URIs are downloaded into a temporary directory.
   * @throws PermanentError `ARTIFACT.NOT_FOUND` when nothing is there.
   */
  openDirectory(uri: string, subdir?: string): Promise<LocalDirectory>;
  /**
   * Copies the files of `localDir` to below `uri`. Readers that check for the
   * directory's marker file (written last by the caller) never see half of it.
   */
  putDirectory(localDir: string, uri: string): Promise<void>;
  close(): Promise<void>;
}
