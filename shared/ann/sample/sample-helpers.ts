/** Small pieces of the sample pipeline: catalogue prefix, held-out split, batched embedding. */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import type { Tf } from '../encoder/tf-backend.js';
import type { Catalogue, Interactions } from './b2b-data.js';
import type { SeededRandom } from './random.js';

/** The first `count` products of `catalogue`. */
export function subCatalogue(catalogue: Catalogue, count: number): Catalogue {
  if (count === catalogue.count) return catalogue;
  return {
    count,
    category: catalogue.category.subarray(0, count),
    tier: catalogue.tier.subarray(0, count),
    popularity: catalogue.popularity.subarray(0, count),
  };
}

/** A random `fraction` of purchases held out for evaluation. */
export function heldOutSplit(
  interactions: Interactions,
  fraction: number,
  random: SeededRandom,
): { train: Interactions; test: Interactions } {
  const n = interactions.customer.length;
  const order = random.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const cut = n - Math.round(n * fraction);
  const take = (rows: Int32Array): Interactions => ({
    customer: Int32Array.from(rows, (i) => interactions.customer[i]!),
    product: Int32Array.from(rows, (i) => interactions.product[i]!),
  });
  return { train: take(order.subarray(0, cut)), test: take(order.subarray(cut)) };
}

/** Runs `model` over columns of one scalar per row (int32 or float32), 4,096 rows at a time. */
export function embedRows(
  tf: Tf,
  model: LayersModel,
  columns: readonly (Int32Array | Float32Array)[],
): Float32Array {
  const count = columns[0]?.length ?? 0;
  const dim = model.outputs[0]!.shape[1]!;
  const out = new Float32Array(count * dim);
  for (let start = 0; start < count; start += 4096) {
    const end = Math.min(count, start + 4096);
    const values = tf.tidy(() => {
      const feeds = columns.map((c) =>
        tf.tensor2d(
          c.subarray(start, end),
          [end - start, 1],
          c instanceof Int32Array ? 'int32' : 'float32',
        ),
      );
      return (model.predict(feeds) as Tensor).dataSync();
    });
    out.set(values, start * dim);
  }
  return out;
}

/** Files under `dir` (relative paths, sorted) with their sizes. */
export async function listFiles(dir: string): Promise<{ path: string; bytes: number }[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
  return Promise.all(
    files
      .sort()
      .map(async (file) => ({ path: path.relative(dir, file), bytes: (await stat(file)).size })),
  );
}
