/**
 * Reading one shard's graph file and checking it is the graph index.json
 * describes. Shared by `openShards` (the builder's calibration and the
 * main-thread searcher) and the search worker (shard-search-worker.ts), so a
 * bad file is refused with the same INDEX.INVALID wherever it is loaded.
 */
import fs from 'node:fs/promises';
import { PermanentError } from '../../errors.js';
import { emptyGraph, type HnswGraph } from './hnsw-graph.js';
import type { TransformKind } from './vector-space.js';

/** What a graph file must hold: the manifest's transform and dimension, and the shard's row count. */
export interface ShardGraphSpec {
  readonly file: string;
  readonly transform: TransformKind;
  readonly dim: number;
  readonly count: number;
}

/**
 * Reads a graph with hnswlib's async `readIndex` (the libuv pool, so the
 * calling thread stays responsive).
 * @throws PermanentError `INDEX.INVALID` when the file is missing or empty,
 *   unreadable by hnswlib (another dimension or space fails its size checks),
 *   or holds another number of rows.
 */
export async function openShardGraph(spec: ShardGraphSpec): Promise<HnswGraph> {
  const { file } = spec;
  const size = await fs.stat(file).then(
    (s) => s.size,
    () => 0,
  );
  if (size === 0) throw invalidGraph(file, 'is missing or empty');
  const graph = emptyGraph(spec.transform, spec.dim);
  try {
    await graph.readIndex(file);
  } catch (error) {
    throw invalidGraph(file, `cannot be read by hnswlib (${(error as Error).message})`, error);
  }
  if (graph.getCurrentCount() !== spec.count) {
    throw invalidGraph(
      file,
      `holds ${graph.getCurrentCount()} rows, the manifest says ${spec.count}`,
    );
  }
  return graph;
}

function invalidGraph(file: string, problem: string, cause?: unknown): PermanentError {
  return new PermanentError('INDEX.INVALID', `graph file ${file} ${problem}`, {
    cause,
    metadata: { file },
  });
}
