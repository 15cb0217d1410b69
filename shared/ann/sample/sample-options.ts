/** Options, defaults and the summary of `trainSampleModel`. */
import { ID_PATTERN, MAX_ID_CHARS } from '@recdeploy/events';

/** Defaults of the options (and of the CLI flags). */
export const SAMPLE_DEFAULTS = {
  products: 2000,
  dim: 64,
  seed: 42,
  idType: 'int',
  epochs: 5,
} as const;

/** Options of `trainSampleModel` (the CLI's flags). */
export interface SampleModelOptions {
  /** Directory receiving `ann/`. */
  readonly out: string;
  /** Catalogue size; above LARGE_CATALOGUE only the first SAMPLE_DEFAULTS.products are trained. */
  readonly products?: number;
  readonly dim?: number;
  readonly seed?: number;
  readonly idType?: 'int' | 'string';
  /** Default 1.5 per trained product, between 300 and 3,000. */
  readonly customers?: number;
  readonly epochs?: number;
  /**
   * The training run recorded in the manifest's fingerprint; default
   * `sample-<UTC date-time, compact>` (e.g. sample-20261206T221400Z).
   */
  readonly trainingRunId?: string;
  /** Progress lines, for stderr. */
  readonly onProgress?: (line: string) => void;
}

/** What `trainSampleModel` did and measured; the CLI prints it. */
export interface SampleModelSummary {
  readonly bundleDir: string;
  readonly products: number;
  readonly trainedProducts: number;
  /** Products whose embeddings were synthesised rather than trained (large catalogues). */
  readonly syntheticProducts: number;
  readonly customers: number;
  readonly dim: number;
  readonly idType: 'int' | 'string';
  readonly seed: number;
  /** The training run the manifest's fingerprint names. */
  readonly trainingRunId: string;
  readonly backend: string;
  readonly epochs: number;
  readonly trainInteractions: number;
  readonly heldOutInteractions: number;
  readonly finalLoss: number;
  readonly trainSeconds: number;
  readonly totalSeconds: number;
  /** Measured on the trained products. */
  readonly recallAt100: number;
  readonly randomRecallAt100: number;
  readonly popularityRecallAt100: number;
  readonly files: readonly { readonly path: string; readonly bytes: number }[];
}

/** The options with defaults applied; throws on values the generator cannot honour. */
export function resolveSampleOptions(options: SampleModelOptions) {
  const resolved = {
    products: options.products ?? SAMPLE_DEFAULTS.products,
    dim: options.dim ?? SAMPLE_DEFAULTS.dim,
    seed: options.seed ?? SAMPLE_DEFAULTS.seed,
    idType: options.idType ?? SAMPLE_DEFAULTS.idType,
    epochs: options.epochs ?? SAMPLE_DEFAULTS.epochs,
  };
  const check = (name: string, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new Error(
        `sample-model: ${name} must be an integer from ${min} to ${max}, got ${value}`,
      );
    }
  };
  check('products', resolved.products, 10, 5_000_000);
  check('dim', resolved.dim, 4, 1024);
  check('seed', resolved.seed, 0, 2 ** 32 - 1);
  check('epochs', resolved.epochs, 1, 100);
  if (options.customers !== undefined) check('customers', options.customers, 10, 1_000_000);
  // Checked before training, not after it when the manifest is written.
  if (options.trainingRunId !== undefined && !ID_PATTERN.test(options.trainingRunId)) {
    throw new Error(
      `sample-model: the training run id must be 1 to ${MAX_ID_CHARS} letters, digits, ".", "_", ":" or "-", starting with a letter or digit, got ${JSON.stringify(options.trainingRunId)}`,
    );
  }
  return resolved;
}

/** The default training run id of a sample bundle: `sample-` and the UTC time, compact. */
export function sampleTrainingRunId(now: Date = new Date()): string {
  return `sample-${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}`;
}
