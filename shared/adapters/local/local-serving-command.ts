import fs from 'node:fs';
import path from 'node:path';

/** How the local platform starts services/ann-serving for a revision. */
export interface ServingCommand {
  readonly command: string;
  readonly args: readonly string[];
  /** Working directory (module resolution of `--import tsx` starts there). */
  readonly cwd?: string;
}

/** The compiled entry point, relative to the repository root. */
const BUILT_MAIN = 'services/ann-serving/dist/src/main.js';
const SOURCE_MAIN = 'services/ann-serving/src/main.ts';

/**
 * Runs the compiled server (`npm run build`) when it exists, as the container
 * does; otherwise the TypeScript source through tsx, which needs no build but
 * starts more slowly.
 */
export function defaultServingCommand(repoRoot: string): ServingCommand {
  const built = path.join(repoRoot, BUILT_MAIN);
  if (fs.existsSync(built)) return { command: process.execPath, args: [built], cwd: repoRoot };
  return {
    command: process.execPath,
    args: ['--conditions=source', '--import', 'tsx', path.join(repoRoot, SOURCE_MAIN)],
    cwd: repoRoot,
  };
}
