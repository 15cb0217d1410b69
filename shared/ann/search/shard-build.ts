/**
 * Builds the index's shards (shard-plan.ts) in parallel worker threads, one
 * graph per shard, each written to its own file. Queries then search every
 * shard and merge by true dot product (see HnswSearcher).
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { CandidateMatrix } from '../types.js';
import type { BuildWorkerData, BuildWorkerMessage } from './hnsw-build-worker.js';
import type { ShardPlan } from './shard-plan.js';

/** One built shard as index.json lists it: its graph file (a name inside the index dir). */
export interface ShardFile {
  readonly file: string;
  readonly count: number;
  /** The shard's max‖x‖² for the `mips-l2` transform; absent for `normalize`. */
  readonly max_norm_squared?: number;
}

/** Options for {@link buildShards}. */
export interface ShardBuildOptions {
  readonly candidates: CandidateMatrix;
  readonly plan: readonly ShardPlan[];
  readonly m: number;
  readonly efConstruction: number;
  readonly seed: number;
  /** Directory the graph files are written into. */
  readonly dir: string;
  /** Rows inserted so far over all shards. */
  readonly onInserted?: (done: number) => void;
  /** Aborting stops every build thread between two inserts; the build then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** Graph file name: `hnsw.bin` for a single graph, `hnsw-<i>.bin` per shard. */
export function shardFileName(index: number, shards: number): string {
  return shards === 1 ? 'hnsw.bin' : `hnsw-${index}.bin`;
}

/**
 * Builds every shard in its own worker thread, all at once (more shards than
 * cores simply share them); resolves when every file is written.
 *
 * When a shard fails or `signal` aborts, the other threads are told to stop
 * through a shared flag, and the call settles only once every thread has
 * ended. They are never `terminate()`d: that aborts the process when it
 * lands inside hnswlib's `addPoint` (see buildGraph).
 */
export async function buildShards(options: ShardBuildOptions): Promise<ShardFile[]> {
  const { candidates, plan, signal } = options;
  signal?.throwIfAborted();
  const done = new Array<number>(plan.length).fill(0);
  const report = () => options.onInserted?.(done.reduce((a, b) => a + b, 0));
  const stop = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  const raiseStop = () => Atomics.store(stop, 0, 1);
  signal?.addEventListener('abort', raiseStop, { once: true });
  const exits: Promise<unknown>[] = [];
  try {
    return await Promise.all(
      plan.map(async (shard, i) => {
        const file = shardFileName(i, plan.length);
        const data: BuildWorkerData = {
          vectors: gatherRows(candidates, shard.rows),
          labels: shard.rows.slice(),
          dim: candidates.dim,
          transform: shard.transform,
          m: options.m,
          efConstruction: options.efConstruction,
          seed: options.seed + i,
          file: path.join(options.dir, file),
          stop,
        };
        const worker = startBuildWorker(data);
        exits.push(new Promise((resolve) => worker.once('exit', resolve)));
        await new Promise<void>((resolve, reject) => {
          worker.on('message', (message: BuildWorkerMessage) => {
            if (message.type === 'done') return resolve();
            if (message.type === 'stopped')
              return reject(new Error(`index build worker ${i} stopped before finishing`));
            done[i] = message.done;
            report();
          });
          worker.once('error', reject);
          worker.once('exit', (code) =>
            reject(new Error(`index build worker ${i} exited with code ${code} before finishing`)),
          );
        });
        const max = shard.transform.kind === 'mips-l2' ? shard.transform.maxNormSquared : undefined;
        return {
          file,
          count: shard.rows.length,
          ...(max === undefined ? {} : { max_norm_squared: max }),
        };
      }),
    );
  } catch (error) {
    raiseStop(); // the other shards must not keep building
    throw signal?.aborted ? (signal.reason as unknown) : error;
  } finally {
    signal?.removeEventListener('abort', raiseStop);
    await Promise.all(exits);
  }
}

/** A copy of the given rows, packed: each worker owns its memory. */
function gatherRows({ vectors, dim }: CandidateMatrix, rows: Int32Array): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((row, i) => out.set(vectors.subarray(row * dim, (row + 1) * dim), i * dim));
  return out;
}

/**
 * Starts the worker on the compiled `.js` file, or, when running from the
 * TypeScript sources (tests, tsx), through a bootstrap that registers tsx in
 * the thread first: on Node 20 an inherited `--import tsx` does not reach a
 * worker's own entry module.
 */
function startBuildWorker(data: BuildWorkerData): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(`./hnsw-build-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  const transferList = [data.vectors.buffer as ArrayBuffer, data.labels.buffer as ArrayBuffer];
  if (!fromSource) return new Worker(url, { workerData: data, transferList });
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: data, transferList });
}
