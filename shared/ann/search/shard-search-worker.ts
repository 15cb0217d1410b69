/**
 * Worker-thread entry of ParallelHnswSearcher: loads ONE shard's graph
 * (async `readIndex`, checked like every graph: open-shard-graph.ts), sets
 * ef, then answers search batches with `searchKnn`, one query after another.
 *
 * Protocol (parent ⇄ worker):
 * - worker → parent, once: `{ type: 'ready' }`, or `{ type: 'load-failed' }`;
 * - parent → worker: a {@link SearchBatch}: `count` queries already in the
 *   graph's space (graphDim floats each) and how many neighbours to return;
 * - worker → parent: `{ type: 'result', id, rows }`, rows = count × k graph
 *   labels (global candidate rows), each query's k in hnswlib's order, -1
 *   where hnswlib returned fewer; its buffer is transferred, not copied. A
 *   search that throws answers `{ type: 'error', id, message }` and the
 *   worker carries on;
 * - parent → worker: `{ type: 'close' }`: the thread ends by itself (exit
 *   code 0).
 *
 * Stopping is cooperative, never `worker.terminate()`: terminating a thread
 * while it is inside hnswlib-node's `searchKnn` aborts the whole process
 * (the addon's napi_throw fails during termination: "FATAL ERROR:
 * Error::ThrowAsJavaScriptException napi_throw"). So the parent raises the
 * shared `stop` flag, which the worker checks between queries, and sends
 * `close`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { HnswGraph } from './hnsw-graph.js';
import { openShardGraph, type ShardGraphSpec } from './open-shard-graph.js';
import { graphDim } from './vector-space.js';

/** What the parent sends as `workerData`. */
export interface SearchWorkerData extends ShardGraphSpec {
  /** The search-time ef (the manifest's calibrated one). */
  readonly ef: number;
  /** Int32Array over a SharedArrayBuffer; element 0 becomes 1 when the parent stops the workers. */
  readonly stop: Int32Array;
}

/** One batch of queries for this shard. */
export interface SearchBatch {
  readonly type: 'search';
  readonly id: number;
  /** count × graphDim floats, transformed for the graph (vector-space.ts `queryPoint`). */
  readonly queries: Float32Array;
  readonly count: number;
  /** Neighbours per query, ≤ the shard's row count. */
  readonly k: number;
}

/** Messages the parent sends. */
export type SearchWorkerRequest = SearchBatch | { readonly type: 'close' };

/** Messages the worker posts back. */
export type SearchWorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'load-failed'; readonly code: string | undefined; readonly message: string }
  | { readonly type: 'result'; readonly id: number; readonly rows: Int32Array }
  | { readonly type: 'error'; readonly id: number; readonly message: string };

const port = parentPort;
if (!port) throw new Error('shard-search-worker.ts runs only as a worker thread');
const spec = workerData as SearchWorkerData;
const stopped = () => Atomics.load(spec.stop, 0) !== 0;
const post = (message: SearchWorkerMessage, transfer?: ArrayBuffer[]) =>
  port.postMessage(message, transfer);

let graph: HnswGraph | undefined;
try {
  graph = await openShardGraph(spec);
  graph.setEf(spec.ef);
} catch (error) {
  const { code, message } = error as { code?: unknown; message?: unknown };
  post({
    type: 'load-failed',
    code: typeof code === 'string' ? code : undefined,
    message: String(message ?? error),
  });
}

const loaded = graph;
// One reused array: the binding accepts only plain arrays.
const point = new Array<number>(graphDim(spec.transform, spec.dim)).fill(0);
port.on('message', (request: SearchWorkerRequest) => {
  if (request.type === 'close' || stopped()) return port.close();
  if (!loaded) return; // load failed: the parent stops this thread
  let rows: Int32Array | undefined;
  try {
    rows = searchBatch(loaded, request);
  } catch (error) {
    post({ type: 'error', id: request.id, message: (error as Error).message });
    return;
  }
  if (!rows) return port.close();
  // A fresh Int32Array owns its whole buffer: transferred, not copied.
  post({ type: 'result', id: request.id, rows }, [rows.buffer as ArrayBuffer]);
});
if (loaded) post({ type: 'ready' });

/** The batch's neighbour rows, or undefined when the parent stopped the workers meanwhile. */
function searchBatch(graph: HnswGraph, batch: SearchBatch): Int32Array | undefined {
  const { queries, count, k } = batch;
  const width = point.length;
  const rows = new Int32Array(count * k).fill(-1);
  for (let q = 0; q < count; q++) {
    if (stopped()) return undefined;
    const off = q * width;
    for (let d = 0; d < width; d++) point[d] = queries[off + d] as number;
    rows.set(graph.searchKnn(point, k).neighbors, q * k);
  }
  return rows;
}
