/**
 * One real model bundle per test run, written by the sample-model code (300
 * products, integer product ids) into a temporary directory, with its HNSW
 * index built as `recdeploy build-index` builds it. Memoised: the protocol
 * and fuzz suites share it, so the model trains once.
 */
import { rmSync } from 'node:fs';
import { cp, mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  buildIndex,
  calibrationQueries,
  loadQueryEncoder,
  readBundle,
  trainSampleModel,
  type Manifest,
  type ProductId,
} from '@recdeploy/shared/ann';

export interface SampleBundle {
  /** The artifact directory (holding ann/), as MODEL_PATH names it. */
  readonly dir: string;
  readonly manifest: Manifest;
  /** product_ids.json as written: row i's original id. */
  readonly productIds: readonly ProductId[];
  /** ann/examples.json: instances as a client sends them. */
  readonly examples: readonly Record<string, unknown>[];
}

const PRODUCTS = 300;
/** Calibration queries for the index (fewer than the default: the catalogue is tiny). */
const CALIBRATION_QUERIES = 200;
let made: Promise<SampleBundle> | undefined;
const temporary: string[] = [];

/** The shared sample bundle (trained on first use). */
export function sampleBundle(): Promise<SampleBundle> {
  made ??= makeSampleBundle();
  return made;
}

/** A copy of the sample bundle without its index (for the start-up build path). */
export async function sampleBundleWithoutIndex(): Promise<SampleBundle> {
  const bundle = await sampleBundle();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ann-serving-noindex-'));
  temporary.push(dir);
  await cp(bundle.dir, dir, {
    recursive: true,
    filter: (source) => !source.split(path.sep).includes('index'),
  });
  return { ...bundle, dir };
}

async function makeSampleBundle(): Promise<SampleBundle> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ann-serving-bundle-'));
  temporary.push(dir);
  await trainSampleModel({ out: dir, products: PRODUCTS, idType: 'int', seed: 7 });
  const bundle = await readBundle(dir);
  const encoder = await loadQueryEncoder(bundle);
  try {
    await buildIndex({
      candidates: bundle.candidates,
      calibrationQueries: calibrationQueries(bundle, encoder, CALIBRATION_QUERIES),
      outDir: path.join(bundle.dir, 'index'),
    });
  } finally {
    encoder.dispose();
  }
  const productIds = JSON.parse(
    await readFile(path.join(bundle.dir, 'product_ids.json'), 'utf8'),
  ) as ProductId[];
  return { dir, manifest: bundle.manifest, productIds, examples: bundle.examples };
}

process.once('exit', () => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});
