/**
 * The sample model the local stack deploys: trained once per data directory
 * into `{dataDir}/models/sample`, then reused. Measured with `recdeploy
 * sample-model` on a 2-core machine: 19–29 s quiet (load 1.4–2.8), 82 s
 * while other test suites ran (load 10–13). A half-written one (no manifest)
 * is trained again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { trainSampleModelInThread } from '@recdeploy/shared/ann/sample-thread';

/** Where the sample bundle lives below the data directory. */
export const SAMPLE_MODEL_DIR = path.join('models', 'sample');
/** The model endpoint the sample model is deployed to. */
export const SAMPLE_ENDPOINT = 'local-sample';

/** The metrics training recorded in the bundle's manifest (recall@100 …); {} when absent. */
export function sampleManifestMetrics(bundleDir: string): Record<string, number> {
  try {
    const manifest = JSON.parse(
      fs.readFileSync(path.join(bundleDir, 'ann', 'manifest.json'), 'utf8'),
    ) as { metrics?: unknown };
    const metrics = manifest.metrics;
    if (typeof metrics !== 'object' || metrics === null) return {};
    return Object.fromEntries(
      Object.entries(metrics).filter((e): e is [string, number] => Number.isFinite(e[1])),
    );
  } catch {
    // Metrics are informational; a manifest without them still deploys.
    return {};
  }
}

/** The sample bundle's directory, and whether this call trained it. */
export interface SampleModel {
  readonly dir: string;
  /** What training achieved (products, recall, seconds); undefined when the bundle was there. */
  readonly trained?: string;
}

/** Whether a complete sample bundle is in `dir` (a half-written one has no manifest). */
export function hasSampleModel(dir: string): boolean {
  return fs.existsSync(path.join(path.resolve(dir), 'ann', 'manifest.json'));
}

/** Returns the sample bundle's directory, training it first when missing. */
export async function ensureSampleModel(
  dir: string,
  options: {
    progress: (line: string) => void;
    products?: number;
    /** A stop asked for: training ends at once and nothing is kept. */
    signal?: AbortSignal;
  },
): Promise<SampleModel> {
  const target = path.resolve(dir);
  if (hasSampleModel(target)) return { dir: target };
  const staging = `${target}.partial`;
  fs.rmSync(staging, { recursive: true, force: true });
  // On a thread of its own, so this process still hears Ctrl-C while it trains.
  const summary = await trainSampleModelInThread(
    {
      out: staging,
      ...(options.products === undefined ? {} : { products: options.products }),
      // It is written beside its place and renamed there once complete: say where it will be.
      onProgress: (line) => options.progress(line.replaceAll(staging, target)),
    },
    options.signal,
  ).catch((error: unknown) => {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  });
  fs.rmSync(target, { recursive: true, force: true });
  fs.renameSync(staging, target);
  return {
    dir: target,
    trained: `${summary.products} products, recall@100 ${summary.recallAt100.toFixed(3)} on held-out purchases (random ${summary.randomRecallAt100.toFixed(3)})`,
  };
}
