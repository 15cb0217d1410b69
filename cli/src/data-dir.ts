/**
 * Which data directory a command works on, found the way git finds its
 * repository: `--data-dir` first, then $RECDEPLOY_DATA_DIR, then the nearest
 * `.recdeploy/` in the current directory or above it, and else a new
 * `.recdeploy/` in the current directory. So `recdeploy runs` from
 * `services/` reads the stack that `npm start` runs at the checkout's root.
 */
import fs from 'node:fs';
import path from 'node:path';

/** The directory's name when it is neither given nor set. */
export const DATA_DIR_NAME = '.recdeploy';

/** How the directory was chosen, for the line that tells the user. */
export type DataDirOrigin = 'flag' | 'env' | 'found' | 'default';

export interface DataDirChoice {
  /** Absolute path. */
  readonly dir: string;
  readonly origin: DataDirOrigin;
}

export interface DataDirInputs {
  /** --data-dir as typed, if given. */
  readonly flag?: string | undefined;
  /** The environment (RECDEPLOY_DATA_DIR). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where to start looking; default the current directory. */
  readonly cwd?: string;
}

export function resolveDataDir(inputs: DataDirInputs = {}): DataDirChoice {
  const cwd = inputs.cwd ?? process.cwd();
  if (inputs.flag !== undefined && inputs.flag !== '') {
    return { dir: path.resolve(cwd, inputs.flag), origin: 'flag' };
  }
  const fromEnv = (inputs.env ?? process.env).RECDEPLOY_DATA_DIR;
  if (fromEnv !== undefined && fromEnv !== '') {
    return { dir: path.resolve(cwd, fromEnv), origin: 'env' };
  }
  const found = findDataDirAbove(cwd);
  if (found !== undefined)
    return { dir: found, origin: found === path.join(cwd, DATA_DIR_NAME) ? 'default' : 'found' };
  return { dir: path.join(path.resolve(cwd), DATA_DIR_NAME), origin: 'default' };
}

/** The nearest `.recdeploy` directory in `from` or one of its parents. */
export function findDataDirAbove(from: string): string | undefined {
  let dir = path.resolve(from);
  for (;;) {
    const candidate = path.join(dir, DATA_DIR_NAME);
    if (isDirectory(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** One line naming the directory and why it was chosen. */
export function describeDataDir(choice: DataDirChoice): string {
  return `data directory ${choice.dir} (${whyChosen(choice)})`;
}

/** Why `choice` is the directory, in a few words. */
export function whyChosen(choice: DataDirChoice): string {
  switch (choice.origin) {
    case 'flag':
      return 'from --data-dir';
    case 'env':
      return 'from $RECDEPLOY_DATA_DIR';
    case 'found':
      return 'found above the current directory';
    case 'default':
      // The same origin whether it exists here or is about to be created here.
      return isDirectory(choice.dir)
        ? 'in the current directory'
        : `no ${DATA_DIR_NAME}/ in the current directory or above it`;
  }
}

function isDirectory(candidate: string): boolean {
  try {
    return fs.statSync(candidate).isDirectory();
  } catch {
    return false;
  }
}
