/**
 * Worker-thread entry: builds one shard's graph and writes it to `file`.
 * Messages to the parent: `{ type: 'progress', done }` during the build,
 * then `{ type: 'done' }` once the file is written, or `{ type: 'stopped' }`
 * when the parent raised `stop` (element 0 = 1) first; nothing is written
 * then. A throw surfaces as the worker's 'error' event.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BuildStoppedError, buildGraph, type GraphJob } from './hnsw-graph.js';

/** What the parent sends as `workerData`. */
export interface BuildWorkerData extends GraphJob {
  readonly file: string;
  /** Shared with the parent, which sets element 0 to 1 to stop the build between two inserts. */
  readonly stop: Int32Array;
}

/** Messages the worker posts back. */
export type BuildWorkerMessage =
  { type: 'progress'; done: number } | { type: 'done' } | { type: 'stopped' };

const job = workerData as BuildWorkerData;
const post = (message: BuildWorkerMessage) => parentPort?.postMessage(message);
const stopped = () => Atomics.load(job.stop, 0) === 1;
try {
  const graph = buildGraph(job, (done) => post({ type: 'progress', done }), stopped);
  graph.writeIndexSync(job.file);
  post({ type: 'done' });
} catch (error) {
  if (!(error instanceof BuildStoppedError)) throw error;
  post({ type: 'stopped' });
}
