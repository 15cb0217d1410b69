/**
 * Building one hnswlib graph from a block of candidate rows. Runs inside a
 * build worker (hnsw-build-worker.ts): hnswlib-node 3.0.0 inserts one
 * `number[]` at a time, synchronously, so a build would otherwise block the
 * event loop for its whole duration (≈13 s per 100k rows at M = 32 here).
 */
import hnswlib from 'hnswlib-node';
import {
  graphDim,
  itemPoint,
  normSquared,
  spaceOf,
  type IndexTransform,
  type TransformKind,
} from './vector-space.js';

/** The hnswlib-node index class. */
export type HnswGraph = InstanceType<typeof hnswlib.HierarchicalNSW>;

/** One shard's build. */
export interface GraphJob {
  /** The shard's rows only, gathered: count × dim. */
  readonly vectors: Float32Array;
  /** Global row id of each gathered row: the graph's labels. */
  readonly labels: Int32Array;
  readonly dim: number;
  readonly transform: IndexTransform;
  readonly m: number;
  readonly efConstruction: number;
  readonly seed: number;
}

/** Inserts between progress callbacks: often enough for a live bar, cheap enough to ignore. */
export const PROGRESS_EVERY = 2_000;

/** Thrown by {@link buildGraph} when its `shouldStop` said so: the build was abandoned, not failed. */
export class BuildStoppedError extends Error {
  constructor(readonly inserted: number) {
    super(`index build stopped after ${inserted} rows`);
    this.name = 'BuildStoppedError';
  }
}

/**
 * Builds the graph of one shard; `onInserted(done)` fires every
 * {@link PROGRESS_EVERY} rows. `shouldStop` is asked before every insert
 * (an insert takes ~0.1 ms here, so a stop lands within about that); when it
 * answers true the build throws {@link BuildStoppedError}. This is how a
 * build thread is stopped: `worker.terminate()` during `addPoint` aborts the
 * whole process (FATAL napi_throw, reproduced with hnswlib-node 3.0.0).
 */
export function buildGraph(
  job: GraphJob,
  onInserted?: (done: number) => void,
  shouldStop?: () => boolean,
): HnswGraph {
  const count = job.labels.length;
  const graph = emptyGraph(job.transform.kind, job.dim);
  // maxElements = count exactly: hnswlib allocates (and saves) that capacity up front.
  graph.initIndex(Math.max(count, 1), job.m, job.efConstruction, job.seed);
  // One reused array: the binding accepts only plain arrays, and refilling is
  // negligible next to the insert.
  const point = new Array<number>(graphDim(job.transform.kind, job.dim)).fill(0);
  for (let i = 0; i < count; i++) {
    if (shouldStop?.()) throw new BuildStoppedError(i);
    const norm2 = normSquared(job.vectors, i * job.dim, job.dim);
    itemPoint(job.transform, job.vectors, i, job.dim, norm2, point);
    graph.addPoint(point, job.labels[i] as number);
    if (onInserted && (i + 1) % PROGRESS_EVERY === 0) onInserted(i + 1);
  }
  onInserted?.(count);
  return graph;
}

/** An empty graph of the right space and dimension, for `initIndex` or `readIndex`. */
export function emptyGraph(kind: TransformKind, dim: number): HnswGraph {
  return new hnswlib.HierarchicalNSW(spaceOf(kind), graphDim(kind, dim));
}
