/**
 * Worker-thread entry: builds one shard's graph and writes it to `file`.
 * Messages to the parent: `{ type: 'progress', done }` during the build,
 * then `{ type: 'done' }` once the file is written. A throw surfaces as the
 * worker's 'error' event.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { buildGraph, type GraphJob } from './hnsw-graph.js';

/** What the parent sends as `workerData`. */
export interface BuildWorkerData extends GraphJob {
  readonly file: string;
}

/** Messages the worker posts back. */
export type BuildWorkerMessage = { type: 'progress'; done: number } | { type: 'done' };

const job = workerData as BuildWorkerData;
const post = (message: BuildWorkerMessage) => parentPort?.postMessage(message);
const graph = buildGraph(job, (done) => post({ type: 'progress', done }));
graph.writeIndexSync(job.file);
post({ type: 'done' });
