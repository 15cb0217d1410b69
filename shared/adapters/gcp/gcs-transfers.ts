/**
 * The Cloud Storage artifact store's transfers: which local files go up and
 * in what order (markers last), and a bounded number of downloads at once.
 */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { PermanentError } from '../../errors.js';

/** Sorted paths, marker files after all others, deeper markers before shallower ones. */
export function uploadOrder(files: readonly string[], markers: ReadonlySet<string>): string[] {
  const isMarker = (file: string): boolean => markers.has(path.posix.basename(file));
  const depth = (file: string): number => file.split('/').length;
  const sorted = [...files].sort();
  return [
    ...sorted.filter((file) => !isMarker(file)),
    ...sorted.filter(isMarker).sort((a, b) => depth(b) - depth(a)),
  ];
}

/** Relative `/`-separated paths of the regular files below `root` (symlinks followed). */
export async function listFiles(root: string): Promise<string[]> {
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
export async function forEachLimited<T>(
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
