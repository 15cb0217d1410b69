/**
 * Whether `sample-model --out <dir>` can take the bundle, checked before a
 * minute of training rather than failing after it with a bare ENOTDIR: the
 * place must be a directory (or one that can be created), empty or holding a
 * bundle already (which is then replaced), and writable. The check writes
 * and removes one empty probe directory; it creates nothing else.
 */
import fs from 'node:fs';
import path from 'node:path';

/** What makes a directory a bundle `sample-model` may overwrite. */
const BUNDLE_MARKER = path.join('ann', 'manifest.json');

/** Why `out` cannot take the bundle, or undefined when it can. */
export function outDirProblem(out: string): string | undefined {
  const dir = path.resolve(out);
  const stat = statOf(dir);
  if (stat !== undefined) {
    if (!stat.isDirectory()) return `--out ${out} is a file; give a directory for the bundle`;
    const entries = fs.readdirSync(dir);
    if (entries.length > 0 && !fs.existsSync(path.join(dir, BUNDLE_MARKER))) {
      return `--out ${out} is a directory with other files in it (${listed(entries)}) and no bundle (${BUNDLE_MARKER}); give an empty or new directory, or one holding a bundle to replace`;
    }
    return writeProblem(dir, out);
  }
  // Walked up by hand: a recursive mkdir below /proc never returns.
  let parent = path.dirname(dir);
  while (statOf(parent) === undefined && path.dirname(parent) !== parent) {
    parent = path.dirname(parent);
  }
  if (!statOf(parent)?.isDirectory()) {
    return `--out ${out} cannot be created: ${parent} is a file, not a directory`;
  }
  return writeProblem(parent, out);
}

/** Creates and removes a probe directory in `dir`: the only sure test (root passes access()). */
function writeProblem(dir: string, out: string): string | undefined {
  try {
    fs.rmdirSync(fs.mkdtempSync(path.join(dir, '.recdeploy-write-check-')));
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    return `--out ${out} cannot be written: creating a directory in ${dir} fails (${code})`;
  }
}

function statOf(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}

function listed(entries: readonly string[]): string {
  const shown = entries.slice(0, 3).join(', ');
  return entries.length > 3 ? `${shown}, …` : shown;
}
