/**
 * The sample model the local stack deploys: trained once (about 15 s on two
 * cores) into `{dataDir}/models/sample`, then reused. A half-written one (no
 * manifest) is trained again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { trainSampleModel } from '@recdeploy/shared/ann';

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

/** Returns the sample bundle's directory, training it first when missing. */
export async function ensureSampleModel(
  dir: string,
  options: { progress: (line: string) => void; products?: number },
): Promise<string> {
  const target = path.resolve(dir);
  if (fs.existsSync(path.join(target, 'ann', 'manifest.json'))) {
    options.progress(`sample model: ${target} (exists)`);
    return target;
  }
  options.progress(`sample model: training a two-tower model into ${target}`);
  const staging = `${target}.partial`;
  fs.rmSync(staging, { recursive: true, force: true });
  const summary = await trainSampleModel({
    out: staging,
    ...(options.products === undefined ? {} : { products: options.products }),
    onProgress: (line) => options.progress(`  ${line}`),
  });
  fs.rmSync(target, { recursive: true, force: true });
  fs.renameSync(staging, target);
  options.progress(
    `sample model: ${summary.products} products, recall@100 ${summary.recallAt100.toFixed(3)} on held-out purchases (random ${summary.randomRecallAt100.toFixed(3)}), ${summary.totalSeconds.toFixed(0)} s`,
  );
  return target;
}
