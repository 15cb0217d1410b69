/**
 * Where each listed object below a prefix lands in a local directory, decided
 * before anything is written. A hostile name (one that objectNameProblem
 * refuses, or one outside the prefix) fails the whole plan: a bundle holding
 * one is not trustworthy, and skipping it would load a bundle that differs
 * from what its author listed without anyone noticing.
 */
import { PermanentError } from '../errors.js';
import { localPathBelow, objectNameProblem } from './object-name.js';

export interface PlannedObject<T> {
  readonly object: T;
  /** The object's name below the prefix, `/`-separated. */
  readonly relative: string;
  /** Strictly inside the plan's directory. */
  readonly destination: string;
}

export interface ObjectDownloadPlan<T> {
  readonly downloads: readonly PlannedObject<T>[];
  /**
   * Objects left out because another object lies below them (`a` and `a/b`
   * cannot both exist on disk; the one that would be a directory loses).
   */
  readonly clashes: readonly string[];
}

/**
 * Plans the download of `objects` (as listed under `prefix`, which is '' or
 * ends with `/`) into `dir`. Folder placeholders (names ending in `/`) are
 * checked and left out.
 * @param source the gs:// URI listed, for the error message.
 * @throws PermanentError `ARTIFACT.FORBIDDEN` naming the first unsafe object
 *   and its offending segment.
 */
export function planObjectDownloads<T extends { readonly name: string }>(
  objects: readonly T[],
  prefix: string,
  dir: string,
  source: string,
): ObjectDownloadPlan<T> {
  const candidates: { object: T; relative: string; destination: string }[] = [];
  for (const object of objects) {
    const refuse = (problem: string): PermanentError =>
      new PermanentError(
        'ARTIFACT.FORBIDDEN',
        `${source} holds an object that cannot be downloaded safely, ` +
          `${JSON.stringify(object.name)}: ${problem}; nothing was downloaded`,
        { metadata: { uri: source, object: object.name } },
      );
    if (!object.name.startsWith(prefix)) {
      throw refuse(`it lies outside the listed prefix "${prefix}"`);
    }
    const relative = object.name.slice(prefix.length);
    if (relative === '') continue; // the prefix's own folder placeholder
    if (relative.endsWith('/')) {
      // A folder placeholder (console-made): no content, but its name is still checked.
      const folder = relative.slice(0, -1);
      const problem =
        folder === '' ? 'an empty segment follows the prefix' : objectNameProblem(folder);
      if (problem !== undefined) throw refuse(problem);
      continue;
    }
    const local = localPathBelow(dir, relative);
    if ('problem' in local) throw refuse(local.problem);
    candidates.push({ object, relative, destination: local.path });
  }
  const directories = new Set(
    candidates.flatMap(({ relative }) =>
      relative
        .split('/')
        .slice(0, -1)
        .map((_, index, parts) => parts.slice(0, index + 1).join('/')),
    ),
  );
  const downloads = candidates.filter(({ relative }) => !directories.has(relative));
  const clashes = candidates
    .filter(({ relative }) => directories.has(relative))
    .map(({ object }) => object.name);
  return { downloads, clashes };
}
