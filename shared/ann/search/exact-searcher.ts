/**
 * Brute-force retrieval (`SERVING_MODE=exact`, and the ground truth for HNSW
 * calibration). Two implementations, chosen by what measured faster on this
 * project's 2-core VM at D = 64, k = 100:
 *
 * | N    | batch | plain loop (b1 p50 / QPS) | TF.js wasm, items pre-transposed |
 * |------|-------|---------------------------|----------------------------------|
 * | 10k  | 1     | 0.41 ms                   | 0.10 ms                          |
 * | 10k  | 32    | 2.4k QPS                  | 14.0k QPS                        |
 * | 100k | 1     | 5.0 ms                    | 1.04 ms                          |
 * | 100k | 32    | 196 QPS                   | 1.6k QPS                         |
 *
 * TF.js on its pure-JS 'cpu' backend took 20 ms at 100k: there the loop wins
 * by 6×, so the loop stays as the fallback (and as a float64 reference).
 * `scripts/bench-search.ts` reproduces the table.
 */
import type { CandidateMatrix, Searcher } from '../types.js';
import { LoopExactSearcher } from './exact-loop.js';
import { TfjsExactSearcher } from './exact-tfjs.js';
import { loadTf, type Tf } from '../encoder/tf-backend.js';

export { LoopExactSearcher } from './exact-loop.js';
export { TfjsExactSearcher } from './exact-tfjs.js';

/** Which brute-force kernel to use; `auto` picks by the TF.js backend. */
export type ExactKernel = 'auto' | 'tfjs' | 'loop';

/** Options for {@link createExactSearcher}. */
export interface ExactSearcherOptions {
  /** Default `auto`: TF.js unless its backend is the pure-JS 'cpu' one. */
  readonly kernel?: ExactKernel;
  /**
   * The TF.js namespace to run on. Default: the process's runtime from
   * encoder/tf-backend.ts (tfjs-node when installed, else wasm, else cpu),
   * the one the query encoder uses.
   */
  readonly tf?: Tf;
}

/** An exact searcher and the kernel it runs, for logs and metrics. */
export type ExactSearcher = Searcher & {
  readonly kernel: 'tfjs' | 'loop';
  /** Releases TF.js memory; a no-op for the loop. */
  dispose(): void;
};

/** Backends on which TF.js matMul beats the loop: wasm (measured), tensorflow (tfjs-node, native; not installed here). */
const FAST_BACKENDS = new Set(['wasm', 'tensorflow']);

/** Builds the faster exact searcher available in this process. */
export async function createExactSearcher(
  candidates: CandidateMatrix,
  options: ExactSearcherOptions = {},
): Promise<ExactSearcher> {
  const kernel = options.kernel ?? 'auto';
  if (kernel !== 'loop') {
    const tf = options.tf ?? (await loadTf()).tf;
    if (kernel === 'tfjs' || FAST_BACKENDS.has(tf.getBackend())) {
      return new TfjsExactSearcher(tf, candidates);
    }
  }
  return new LoopExactSearcher(candidates);
}
