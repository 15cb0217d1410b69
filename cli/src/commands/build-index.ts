/**
 * `recdeploy build-index DIR`: builds the bundle's HNSW index into
 * `<bundle>/ann/index/` (shared/ann/search). Calibration queries are the
 * bundle's examples and instances sampled from its input space, all
 * encoded by its own query model (real query-tower embeddings). Progress goes to stderr; the
 * report to stdout, as text or, with --json, as index.json's content.
 *
 * Exit codes: 0 written; 1 not written (unreadable bundle, recall below the
 * floor, build failure); 2 bad arguments.
 */
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import {
  BUILD_DEFAULTS,
  DEFAULT_CALIBRATION_QUERIES,
  buildIndex,
  declaredTrainingRunId,
  loadQueryEncoder,
  readBundle,
  calibrationQueries,
  type BuildProgress,
  type IndexManifest,
  type ModelBundle,
} from '@recdeploy/shared/ann';
import { processIo, type CliIo } from '../cli-io.js';
import { integerIn } from '../option-parsers.js';

interface BuildIndexFlags {
  k: number;
  target: number;
  floor: number;
  m: number;
  efConstruction: number;
  shards?: number;
  queries: number;
  json?: boolean;
}

/** The command, for `program.addCommand(buildIndexCommand(io))`. */
export function buildIndexCommand(io: CliIo = processIo): Command {
  return new Command('build-index')
    .description('build the HNSW index of a model bundle, calibrating ef for a recall target')
    .argument('<dir>', 'the bundle (its artifact directory or its ann/ directory)')
    .option(
      '--k <n>',
      'neighbours per query to calibrate recall for',
      integerIn(1, 10_000),
      BUILD_DEFAULTS.k,
    )
    .option(
      '--target <r>',
      'mean recall@k the chosen ef must reach',
      fraction,
      BUILD_DEFAULTS.recallTarget,
    )
    .option(
      '--floor <r>',
      'fail when the largest ef stays below this recall',
      fraction,
      BUILD_DEFAULTS.recallFloor,
    )
    .option('--m <n>', 'hnswlib M (links per node)', integerIn(2, 200), BUILD_DEFAULTS.m)
    .option(
      '--ef-construction <n>',
      'hnswlib efConstruction',
      integerIn(1, 10_000),
      BUILD_DEFAULTS.efConstruction,
    )
    .option(
      '--shards <n>',
      'graphs built in parallel (default: per transform, see shard-plan.ts)',
      integerIn(1, 64),
    )
    .option(
      '--queries <n>',
      'calibration queries: the examples plus sampled instances, encoded',
      integerIn(10, 100_000),
      DEFAULT_CALIBRATION_QUERIES,
    )
    .option('--json', 'print index.json instead of a summary')
    .addHelpText(
      'after',
      `
Exit codes: 0 the index was written; 1 not written: the bundle could not be read, the recall at
the largest ef stayed below --floor, or the build failed; 2 bad arguments.`,
    )
    .action(async (dir: string, flags: BuildIndexFlags) => {
      const bundle = await readBundle(dir);
      const manifest = await buildIndex({
        candidates: bundle.candidates,
        calibrationQueries: await encodedCalibrationQueries(bundle, flags.queries),
        outDir: path.join(bundle.dir, 'index'),
        // Recorded in index.json, so a server refusing the pairing names the run.
        trainingRunId: declaredTrainingRunId(bundle.manifest),
        k: flags.k,
        recallTarget: flags.target,
        recallFloor: flags.floor,
        M: flags.m,
        efConstruction: flags.efConstruction,
        ...(flags.shards === undefined ? {} : { shards: flags.shards }),
        onProgress: progressPrinter(io),
      });
      if (flags.json) io.out(JSON.stringify(manifest, null, 2));
      else for (const line of describe(manifest, path.join(bundle.dir, 'index'))) io.out(line);
    });
}

/**
 * Adds the command to `program` (the CLI's registration convention), with the
 * program's settings: addCommand, unlike command(), inherits none, and without
 * them commander would print to the process's streams and end a bad argument
 * with process.exit(1) instead of main's usage code 2.
 */
export function registerBuildIndex(program: Command, io: CliIo): void {
  program.addCommand(buildIndexCommand(io).copyInheritedSettings(program));
}

/** Calibration queries encoded by the bundle's own query model. */
async function encodedCalibrationQueries(
  bundle: ModelBundle,
  total: number,
): Promise<Float32Array> {
  const encoder = await loadQueryEncoder(bundle);
  try {
    return calibrationQueries(bundle, encoder, total);
  } finally {
    encoder.dispose();
  }
}

/** Prints each phase once, and the build's progress every 10%. */
function progressPrinter(io: CliIo): (p: BuildProgress) => void {
  const started = performance.now();
  let last = '';
  return ({ phase, done, total }) => {
    const tenth =
      phase === 'build' ? Math.floor((10 * done) / Math.max(total, 1)) : done === total ? 1 : 0;
    const key = `${phase}:${tenth}`;
    if (key === last) return;
    last = key;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    io.err(`build-index ${seconds.padStart(6)} s  ${phase.padEnd(12)} ${done}/${total}`);
  };
}

function describe(m: IndexManifest, dir: string): string[] {
  const r = m.recall;
  const sweep = r.sweep.map((p) => `ef ${p.ef}: ${p.recall.toFixed(4)} (p50 ${p.p50_ms} ms)`);
  return [
    `index written to ${dir} in ${m.build_seconds.toFixed(1)} s`,
    `  catalogue    ${m.count} × ${m.dim}, transform ${m.transform} (space ${m.space}), ${m.shards.length} shard(s)`,
    `  graph        M ${m.m}, efConstruction ${m.ef_construction}, hnswlib-node ${m.hnswlib_node_version}`,
    `  recall@${r.k}   ${r.recall.toFixed(4)} at ef ${m.ef} on ${r.queries} queries (target ${r.target}, floor ${r.floor}${r.met_target ? '' : '; TARGET NOT MET, floor only'})`,
    `  sweep        ${sweep.join('; ')}`,
  ];
}

/** A recall value in (0, 1]; anything else is a usage error. */
function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !(n > 0 && n <= 1)) {
    throw new InvalidArgumentError(`expected a number in (0, 1], got "${value}".`);
  }
  return n;
}
