/**
 * The local artifact store's writes: a tree copied into a staging directory,
 * then renamed into place, so a reader never sees half of it.
 */
import { copyFile, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PermanentError } from '../../errors.js';
import { errorCode } from './file-uri-confinement.js';

export async function requireDirectory(dir: string): Promise<void> {
  const stats = await stat(dir).catch(() => undefined);
  if (stats?.isDirectory() !== true) {
    throw new PermanentError('INPUT.INVALID', `source directory ${dir} does not exist`, {
      metadata: { localDir: dir },
    });
  }
}

/**
 * Copies regular files and directories; symlinks to files are copied as
 * files, symlinks to directories are refused (they could loop or pull in
 * a tree from anywhere). Returns how many files were copied.
 */
export async function copyTree(from: string, to: string): Promise<number> {
  let files = 0;
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name);
    const destination = path.join(to, entry.name);
    if (entry.isDirectory()) {
      await mkdir(destination);
      files += await copyTree(source, destination);
      continue;
    }
    const stats = await stat(source);
    if (!stats.isFile()) {
      const what = entry.isSymbolicLink()
        ? 'a symbolic link to something other than a regular file'
        : 'neither a regular file nor a directory';
      throw new PermanentError('INPUT.INVALID', `${source} is ${what}; it is not copied`, {
        metadata: { file: source },
      });
    }
    await copyFile(source, destination);
    files++;
  }
  return files;
}

/** Puts `staging` where `target` is; the previous target is removed afterwards. */
export async function replaceWith(staging: string, target: string): Promise<void> {
  const retired = `${staging}.old`;
  let hadPrevious = true;
  try {
    await rename(target, retired);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
    hadPrevious = false;
  }
  try {
    await rename(staging, target);
  } catch (error) {
    if (hadPrevious) await rename(retired, target);
    throw error;
  }
  if (hadPrevious) await rm(retired, { recursive: true, force: true });
}
