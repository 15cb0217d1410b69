// Whether the built CLI (cli/dist) is up to date with the sources, decided in a
// few milliseconds from file times alone, so the launcher can run the fast
// built output whenever it answers exactly as the sources would.
//
// `tsc -b` rewrites a project's dist/tsconfig.tsbuildinfo (or, when nothing it
// emits would change, at least its time) whenever an input of that project is
// newer, and leaves it alone when nothing changed; a project that compiles with
// type errors still emits and writes it. So a project is current when none of
// its inputs (the .ts files its tsconfig includes, its tsconfig.json and the
// shared tsconfig.base.json) is newer than its tsbuildinfo. Times compare in
// whole milliseconds, as tsc compares them (it stamps with a Date).
//
// Not watched: package.json (tsc does not rebuild or restamp when it alone
// changes, so watching it would call the build stale for ever; the built code
// reads package.json at run time anyway) and deleted source files (dead code
// in dist/ that nothing imports any more changes no behaviour).
import fs from 'node:fs';
import path from 'node:path';

/**
 * The projects the CLI is built from (cli/tsconfig.json and its references),
 * each with the directory its tsconfig includes `**\/*.ts` from and what it
 * excludes besides dist/ and node_modules/ (test/integration/cli/launcher.test.ts
 * checks this against the tsconfig files).
 */
export const CLI_PROJECTS = Object.freeze([
  { dir: 'events', sources: '.', exclude: ['scripts'] },
  { dir: 'shared', sources: '.', exclude: [] },
  { dir: 'functions/register', sources: 'src', exclude: [] },
  { dir: 'functions/deploy', sources: 'src', exclude: [] },
  { dir: 'functions/verify', sources: 'src', exclude: [] },
  { dir: 'cli', sources: 'src', exclude: [] },
]);

const ALWAYS_EXCLUDED = new Set(['dist', 'node_modules']);

/** Every .ts file `project` compiles, as absolute paths. */
export function projectSources(root, project) {
  const files = [];
  const walk = (dir, top) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (ALWAYS_EXCLUDED.has(entry.name) || (top && project.exclude.includes(entry.name))) {
          continue;
        }
        walk(full, false);
      } else if (entry.name.endsWith('.ts')) {
        files.push(full);
      }
    }
  };
  walk(path.join(root, project.dir, project.sources), project.sources === '.');
  return files;
}

/**
 * The first project whose build is missing or older than one of its inputs,
 * as `{ dir, input }` (input: the newer file, or the missing tsbuildinfo), or
 * undefined when every project's build is current.
 */
export function staleProject(root) {
  const base = mtime(path.join(root, 'tsconfig.base.json')) ?? 0;
  for (const project of CLI_PROJECTS) {
    const buildInfo = path.join(root, project.dir, 'dist', 'tsconfig.tsbuildinfo');
    const built = mtime(buildInfo);
    if (built === undefined) return { dir: project.dir, input: buildInfo };
    if (base > built) return { dir: project.dir, input: path.join(root, 'tsconfig.base.json') };
    const inputs = [
      path.join(root, project.dir, 'tsconfig.json'),
      ...projectSources(root, project),
    ];
    const newer = inputs.find((file) => (mtime(file) ?? Infinity) > built);
    if (newer !== undefined) return { dir: project.dir, input: newer };
  }
  return undefined;
}

/** Modification time in whole milliseconds, or undefined when the file is missing. */
function mtime(file) {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  return stat === undefined ? undefined : Math.floor(stat.mtimeMs);
}
