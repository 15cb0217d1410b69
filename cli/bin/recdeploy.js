#!/usr/bin/env node
// The `recdeploy` launcher: the command runs in this one process, so exit
// codes and signals are its own. It runs the built output (cli/dist) whenever
// that is up to date with the sources (build-freshness.js; a few ms to decide).
// In a checkout whose build is stale or missing it runs the TypeScript sources
// in-process through tsx instead (correct, only slower to start) and, on a
// terminal, says once that `npm run build` makes commands fast. An install
// without sources runs dist/.
//
// RECDEPLOY_LAUNCHER=source or =built forces one path (for measuring them,
// as `npm run bench:cli` does); unset, the launcher decides.
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { URL, fileURLToPath } from 'node:url';
import { staleProject } from './build-freshness.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const source = new URL('../src/main.ts', import.meta.url);
const built = new URL('../dist/src/main.js', import.meta.url);

// Workspace packages resolve to their TypeScript (the "source" export
// condition), as `node --conditions=source` would; this hook adds it in-process.
const SOURCE_CONDITION_HOOK = `export async function resolve(specifier, context, next) {
  if (!specifier.startsWith('@recdeploy/') || context.conditions.includes('source')) {
    return next(specifier, context);
  }
  return next(specifier, { ...context, conditions: [...context.conditions, 'source'] });
}`;

/** The entry module to run: the built one, or the sources once tsx is registered. */
async function chooseEntry() {
  const forced = process.env.RECDEPLOY_LAUNCHER ?? '';
  if (!['', 'source', 'built'].includes(forced)) {
    process.stderr.write(`recdeploy: RECDEPLOY_LAUNCHER must be source or built, not ${forced}\n`);
    process.exit(2);
  }
  if (forced === 'built' || !existsSync(source)) return built;
  const stale = forced === 'source' ? undefined : staleProject(root);
  if (forced !== 'source' && stale === undefined) return built;
  if (!(await registerTsx())) {
    if (forced !== 'source') return built;
    process.stderr.write(
      'recdeploy: RECDEPLOY_LAUNCHER=source needs tsx (a checkout with its dev dependencies)\n',
    );
    process.exit(2);
  }
  if (stale !== undefined && process.stderr.isTTY) {
    const line = `recdeploy: build of ${stale.dir} is stale, running the sources (slower); \`npm run build\` makes commands fast`;
    process.stderr.write(process.env.NO_COLOR ? `${line}\n` : `\x1b[2m${line}\x1b[22m\n`);
  }
  return source;
}

/** Registers tsx's ESM loader and the source condition; false when tsx is not installed. */
async function registerTsx() {
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    return false;
  }
  tsx.register();
  // Registered after tsx, so it runs first and tsx resolves with the condition added.
  register(`data:text/javascript,${encodeURIComponent(SOURCE_CONDITION_HOOK)}`);
  return true;
}

const entry = await chooseEntry();
if (!existsSync(entry)) {
  process.stderr.write('recdeploy: the CLI is not built: run `npm run build`\n');
  process.exit(1);
}
const cli = await import(entry.href);
await cli.runCli(process.argv);
