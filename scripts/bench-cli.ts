/**
 * `npm run bench:cli [-- --n 15]`: how long a `recdeploy` command takes from
 * the shell, on this machine. Not a test: it prints numbers.
 *
 * A temporary data directory gets a SQLite run store with 100 runs (written
 * through SqliteRunStore as the chain writes them). Then `tsc -b` brings the
 * build up to date and each command is timed N times as a spawned process
 * (wall clock from spawn to exit: what a person waits for), through
 * cli/bin/recdeploy.js on the built output (the launcher decides; the build is
 * checked to be current before and after) and on the sources
 * (RECDEPLOY_LAUNCHER=source, the path a stale build takes). The runs of one
 * round are interleaved, so load on the machine's shared cores hits every row
 * alike. Also timed: `node -e 0` (Node's own start, the floor), `tsc -b` with
 * nothing to do (what `npm start` pays before the stack when nothing changed),
 * and the launcher's freshness check in process.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { dataDirWithRuns } from '../test/integration/cli/many-runs.js';

const root = path.resolve(import.meta.dirname, '..');
const launcher = path.join(root, 'cli/bin/recdeploy.js');
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
const { values: options } = parseArgs({ options: { n: { type: 'string', default: '15' } } });
const N = Number(options.n);
if (!Number.isInteger(N) || N < 1)
  throw new Error(`--n must be a positive integer, not ${options.n}`);

interface FreshnessModule {
  staleProject(root: string): { dir: string; input: string } | undefined;
}
const freshness = (await import(
  pathToFileURL(path.join(root, 'cli/bin/build-freshness.js')).href
)) as FreshnessModule;

/** One timed process: its wall-clock milliseconds; throws when it fails. */
function timed(args: readonly string[], env: Record<string, string> = {}): number {
  const startedAt = performance.now();
  const result = spawnSync(process.execPath, args, {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    encoding: 'utf8',
  });
  const ms = performance.now() - startedAt;
  if (result.status !== 0) {
    throw new Error(`${args.join(' ')} exited ${result.status}:\n${result.stderr}`);
  }
  return ms;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const runs = await dataDirWithRuns(100);
try {
  const runId = runs.runIds[0] ?? '';
  const commands: readonly (readonly [string, readonly string[]])[] = [
    ['runs (100 runs in the store)', ['runs', '--data-dir', runs.dataDir]],
    ['status <run>', ['status', runId, '--data-dir', runs.dataDir]],
    ['--help', ['--help']],
  ];
  const paths = [
    ['built', {}],
    ['source', { RECDEPLOY_LAUNCHER: 'source' }],
  ] as const;

  timed([tsc, '-b']);
  const staleBefore = freshness.staleProject(root);
  const samples = new Map<string, number[]>();
  const add = (key: string, ms: number) => samples.set(key, [...(samples.get(key) ?? []), ms]);
  // One warm-up round (file cache, tsx's transform cache), not counted.
  for (let round = 0; round <= N; round++) {
    const record = round === 0 ? () => undefined : add;
    record('node -e 0', timed(['-e', '0']));
    for (const [name, args] of commands) {
      for (const [mode, env] of paths) record(`${name}|${mode}`, timed([launcher, ...args], env));
    }
    record('tsc -b', timed([tsc, '-b']));
    const t = performance.now();
    freshness.staleProject(root);
    record('freshness', performance.now() - t);
  }
  const staleAfter = freshness.staleProject(root);

  const cell = (key: string, digits = 0) => {
    const values = samples.get(key) ?? [];
    return `${percentile(values, 50).toFixed(digits)} / ${percentile(values, 90).toFixed(digits)}`;
  };
  console.log(
    `\nrecdeploy from the shell: wall-clock ms, median / p90 of ${N} (${new Date().toISOString().slice(0, 10)})\n`,
  );
  console.log('| command | built (dist) | sources (tsx) |');
  console.log('| ------- | ------------ | ------------- |');
  for (const [name] of commands) {
    console.log(`| \`recdeploy ${name}\` | ${cell(`${name}|built`)} | ${cell(`${name}|source`)} |`);
  }
  console.log(`| \`node -e 0\` (Node's start) | ${cell('node -e 0')} | |`);
  console.log(`| \`tsc -b\`, nothing to do | ${cell('tsc -b')} | |`);
  console.log(`| freshness check (in process) | ${cell('freshness', 1)} | |`);
  if (staleBefore !== undefined || staleAfter !== undefined) {
    const stale = staleBefore ?? staleAfter;
    console.log(
      `\nnote: the build was stale (${stale?.input}) during the series: sources changed while it ran, so "built" rows may include source runs`,
    );
  }
} finally {
  runs.remove();
}
