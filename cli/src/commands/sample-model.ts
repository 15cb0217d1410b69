/**
 * `recdeploy sample-model`: trains the sample two-tower model and writes its
 * bundle (shared/ann/sample). Progress goes to stderr; the summary to stdout,
 * as text or, with --json, as one JSON object for scripts. --out is checked
 * before training (sample-model-out.ts).
 *
 * Exit codes: 0 the bundle was written; 1 training or writing failed; 2 bad
 * arguments, --out among them.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ID_PATTERN } from '@recdeploy/events';
import { SAMPLE_DEFAULTS, trainSampleModel, type SampleModelSummary } from '@recdeploy/shared/ann';
import type { CliIo } from '../cli-io.js';
import { integerIn } from '../option-parsers.js';
import { usageError } from '../output/usage-error.js';
import { outDirProblem } from './sample-model-out.js';

interface SampleModelFlags {
  out: string;
  products: number;
  dim: number;
  seed: number;
  idType: 'int' | 'string';
  customers?: number;
  epochs: number;
  trainingRunId?: string;
  json?: boolean;
}

/** Checked before training starts, with the rule the event schema applies to ids. */
function trainingRunIdOption(value: string): string {
  if (!ID_PATTERN.test(value)) {
    throw new InvalidArgumentError(
      'letters, digits, ".", "_", ":" and "-", starting with a letter or digit, at most 128',
    );
  }
  return value;
}

/** Adds the command to `program`. */
export function registerSampleModel(program: Command, io: CliIo): void {
  program
    .command('sample-model')
    .description(
      'train a sample two-tower retrieval model on generated B2B data and write its bundle',
    )
    .addOption(
      new Option(
        '--out <dir>',
        '(required) directory to write the bundle into (creates <dir>/ann): new, empty, or holding a bundle to replace',
      ).makeOptionMandatory(),
    )
    .option(
      '--products <n>',
      `catalogue size; above 20000 only ${SAMPLE_DEFAULTS.products} are trained and the rest synthesised`,
      integerIn(10, 5_000_000),
      SAMPLE_DEFAULTS.products,
    )
    .option('--dim <d>', 'embedding size', integerIn(4, 1024), SAMPLE_DEFAULTS.dim)
    .option(
      '--seed <s>',
      'random seed (same seed, same model)',
      integerIn(0, 2 ** 32 - 1),
      SAMPLE_DEFAULTS.seed,
    )
    .addOption(
      new Option('--id-type <type>', 'product id type')
        .choices(['int', 'string'])
        .default(SAMPLE_DEFAULTS.idType),
    )
    .option(
      '--customers <n>',
      'customers (default 1.5 per trained product, 300 to 3000)',
      integerIn(10, 1_000_000),
    )
    .option('--epochs <n>', 'training epochs', integerIn(1, 100), SAMPLE_DEFAULTS.epochs)
    .option(
      '--training-run-id <id>',
      "the training run named in the bundle's fingerprint (default sample-<UTC time>)",
      trainingRunIdOption,
    )
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
Exit codes: 0 the bundle was written; 1 training or writing failed; 2 bad arguments: among them
--out missing, or a file, a place that cannot be written, or a directory with other files in it
(checked before training starts).`,
    )
    .action(async (flags: SampleModelFlags) => {
      const problem = outDirProblem(flags.out);
      if (problem !== undefined) usageError(io, problem);
      const summary = await trainSampleModel({ ...flags, onProgress: (line) => io.err(line) });
      if (flags.json) io.out(JSON.stringify(summary, null, 2));
      else for (const line of describe(summary)) io.out(line);
    });
}

function describe(s: SampleModelSummary): string[] {
  const f3 = (x: number) => x.toFixed(3);
  const trained =
    s.syntheticProducts > 0
      ? `${s.trainedProducts} trained, ${s.syntheticProducts} synthesised`
      : 'all trained';
  const over = s.syntheticProducts > 0 ? ` over the ${s.trainedProducts} trained products` : '';
  return [
    `sample model written to ${s.bundleDir}`,
    `  products     ${s.products} (${trained}), ${s.idType} ids, embedding dim ${s.dim}, seed ${s.seed}`,
    `  training     ${s.epochs} epochs on ${s.trainInteractions} purchases in ${s.trainSeconds.toFixed(1)} s (${s.backend} backend; ${s.totalSeconds.toFixed(1)} s in all)`,
    `  recall@100   ${f3(s.recallAt100)} on ${s.heldOutInteractions} held-out purchases${over}; random ${f3(s.randomRecallAt100)}, most popular ${f3(s.popularityRecallAt100)}`,
    `  files        ${s.files.map((file) => `${file.path} (${file.bytes} B)`).join(', ')}`,
  ];
}
