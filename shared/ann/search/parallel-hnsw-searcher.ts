/**
 * HNSW search over S shards on S threads at once: the calling thread searches
 * the first shard itself while one worker thread per other shard
 * (shard-search-worker.ts) searches the rest, and the hits are merged here
 * exactly as HnswSearcher merges: each re-scored by its true dot product
 * against the raw candidate vector, the union cut to k by score descending,
 * lower row first on ties. So for the same index and ef the results are
 * HnswSearcher's, and S shards take about as long as the slowest one.
 *
 * Why the calling thread takes a shard rather than waiting for S workers:
 * measured at N = 100k (2 shards, ef 150, single queries, 2 cores) search
 * took 0.376 ms on one thread, 0.344 ms with both shards in workers (waking a
 * worker and hearing back cost ~60 µs, and the two workers sometimes shared
 * a core) and 0.22–0.25 ms with the main thread searching one shard. The
 * event loop is busy during its own shard, as it was with one thread.
 *
 * Each thread loads only its own graph file, so graphs are in memory once.
 * One message per batch per worker: the queries, already in the graphs'
 * space, as one Float32Array; the answer, one transferred Int32Array of
 * neighbour rows.
 *
 * Failure is permanent: a worker that throws or exits unexpectedly rejects
 * every pending search, the other workers are stopped, `failure` is set,
 * `onFailure` is called once, and every later search rejects with it at
 * once. A server reports itself unhealthy and is restarted; nothing here
 * tries to reload a graph behind a caller's back.
 *
 * Workers are stopped cooperatively (a shared flag checked between queries,
 * then a `close` message), never with `worker.terminate()`, which aborts the
 * process when it lands inside hnswlib's `searchKnn` (shard-search-worker.ts).
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { PermanentError } from '../../errors.js';
import type { AsyncSearcher, CandidateMatrix, SearchHit } from '../types.js';
import type { HnswGraph } from './hnsw-graph.js';
import type { IndexManifest } from './index-files.js';
import { openShardGraph } from './open-shard-graph.js';
import { effectiveK } from './search-args.js';
import type {
  SearchBatch,
  SearchWorkerData,
  SearchWorkerMessage,
  SearchWorkerRequest,
} from './shard-search-worker.js';
import { pushRescored } from './hnsw-searcher.js';
import { TopK } from './top-k.js';
import { graphDim, queryPoint, type TransformKind } from './vector-space.js';

/** Options for {@link ParallelHnswSearcher.start}. */
export interface ParallelHnswOptions {
  /**
   * Called once when the searcher fails for good (a worker threw or exited
   * unexpectedly): log it, report unhealthy. Not called for load failures,
   * which reject `start` instead, nor after `dispose`. Exceptions it throws
   * are ignored.
   */
  readonly onFailure?: (error: Error) => void;
  /**
   * Sees each worker as it starts (tests, diagnostics). The searcher owns and
   * stops it. Terminating one by hand simulates a crash, but only while no
   * search is running: a terminate that lands inside `searchKnn` aborts the
   * process.
   */
  readonly onWorker?: (worker: Worker, shard: number) => void;
}

/** The manifest fields the searcher needs. */
export type ParallelIndexFields = Pick<IndexManifest, 'shards' | 'dim' | 'transform' | 'ef'>;

interface Pending {
  readonly resolve: (rows: Int32Array) => void;
  readonly reject: (error: Error) => void;
}

interface ShardWorker {
  readonly shard: number;
  readonly file: string;
  readonly count: number;
  readonly worker: Worker;
  /** Resolves with the exit code once the thread has ended. */
  readonly exited: Promise<number>;
  /** Searches sent to this worker and not answered yet, by id. */
  readonly pending: Map<number, Pending>;
  /** Settles when the worker reports its graph loaded (or failing to). */
  readonly loaded: Promise<void>;
  readonly settleLoad: (error?: Error) => void;
}

/** The shard the calling thread searches itself. */
interface LocalShard {
  readonly graph: HnswGraph;
  readonly count: number;
}

/** Approximate top-k over sharded HNSW graphs: shard 0 on the calling thread, one worker per other shard. */
export class ParallelHnswSearcher implements AsyncSearcher {
  readonly mode = 'ann' as const;
  private failed: Error | undefined;
  /** Every graph loaded: from then on a dying worker is a runtime failure (onFailure). */
  private started = false;
  private disposed = false;
  private stopping: Promise<void> | undefined;
  private nextId = 0;
  private inFlight = 0;
  private readonly point: number[];
  private readonly width: number;
  /** Shard 0, searched on the calling thread; set by `start` once loaded. */
  private local: LocalShard | undefined;

  private constructor(
    /** The worker of every shard but the first. */
    private readonly shards: readonly ShardWorker[],
    /** Raised (element 0 = 1) to make every worker stop between two queries. */
    private readonly stop: Int32Array,
    private readonly kind: TransformKind,
    private readonly candidates: CandidateMatrix,
    /** The ef every worker searches with (hnswlib uses max(ef, k)). */
    readonly ef: number,
    private readonly onFailure: ((error: Error) => void) | undefined,
  ) {
    this.width = graphDim(kind, candidates.dim);
    this.point = new Array<number>(this.width).fill(0);
    for (const shard of shards) {
      shard.worker.on('message', (message: SearchWorkerMessage) => this.receive(shard, message));
      shard.worker.on('error', (error: unknown) =>
        this.fail(shard, `crashed: ${errorMessage(error)}`, error),
      );
      shard.worker.on('messageerror', (error: unknown) =>
        this.fail(shard, `sent an unreadable message: ${errorMessage(error)}`, error),
      );
      shard.worker.on('exit', (code: number) => this.fail(shard, `exited with code ${code}`));
    }
  }

  /**
   * Loads shard 0 of `manifest` on this thread and starts one worker for each
   * other shard, each loading its own graph from `indexDir`; resolves once
   * every graph is loaded and checked. Does not
   * check the manifest against the candidates: `loadParallelHnswSearcher`
   * (hnsw-index.ts) does, as `loadHnswSearcher` does.
   * @throws PermanentError `INDEX.INVALID` for a missing, unreadable or
   *   miscounted graph file (every worker is stopped first).
   */
  static async start(
    indexDir: string,
    manifest: ParallelIndexFields,
    candidates: CandidateMatrix,
    options: ParallelHnswOptions = {},
  ): Promise<ParallelHnswSearcher> {
    const stop = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
    const [first, ...others] = manifest.shards;
    if (!first) throw new RangeError('the index manifest lists no shards');
    const shards = others.map((entry, i): ShardWorker => {
      const shard = i + 1;
      const data: SearchWorkerData = {
        file: path.join(indexDir, entry.file),
        transform: manifest.transform,
        dim: manifest.dim,
        count: entry.count,
        ef: manifest.ef,
        stop,
      };
      const worker = startSearchWorker(data);
      const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
      options.onWorker?.(worker, shard);
      let settleLoad: (error?: Error) => void = () => undefined;
      const loaded = new Promise<void>((resolve, reject) => {
        settleLoad = (error) => (error ? reject(error) : resolve());
      });
      return {
        shard,
        file: data.file,
        count: entry.count,
        worker,
        exited,
        pending: new Map(),
        loaded,
        settleLoad,
      };
    });
    const searcher = new ParallelHnswSearcher(
      shards,
      stop,
      manifest.transform,
      candidates,
      manifest.ef,
      options.onFailure,
    );
    try {
      const [graph] = await Promise.all([
        openShardGraph({
          file: path.join(indexDir, first.file),
          transform: manifest.transform,
          dim: manifest.dim,
          count: first.count,
        }),
        ...shards.map((shard) => shard.loaded),
      ]);
      graph.setEf(manifest.ef);
      searcher.local = { graph, count: first.count };
    } catch (error) {
      await searcher.dispose();
      throw error;
    }
    searcher.started = true;
    // Idle workers do not keep the process alive; a pending search does (see send).
    for (const { worker } of shards) worker.unref();
    return searcher;
  }

  /** Threads each search runs on: the calling thread plus one worker per other shard. */
  get threads(): number {
    return this.shards.length + 1;
  }

  /** Why the searcher stopped working, once it has; undefined while healthy. */
  get failure(): Error | undefined {
    return this.failed;
  }

  /**
   * Top-k by dot product, as HnswSearcher.search (same argument checks, same
   * results), with the shards searched in parallel. Rejects with `failure`
   * once the searcher has failed, and after `dispose`.
   */
  async search(queries: Float32Array, queryCount: number, k: number): Promise<SearchHit[]> {
    if (this.failed) throw this.failed;
    const local = this.local;
    if (this.disposed || !local) throw new Error('the parallel HNSW searcher has been disposed');
    const { dim, count } = this.candidates;
    const kept = effectiveK(queries, queryCount, dim, count, k);
    if (queryCount === 0) return [];
    const points = new Float32Array(queryCount * this.width);
    for (let q = 0; q < queryCount; q++) {
      queryPoint(this.kind, queries, q, dim, this.point);
      points.set(this.point, q * this.width);
    }
    const perShard = [local, ...this.shards].map((shard) => Math.min(kept, shard.count));
    // Workers first, so they search while this thread does shard 0.
    const remote = Promise.all(
      this.shards.map((shard, s) =>
        this.send(shard, points, queryCount, perShard[s + 1] as number),
      ),
    );
    let own: Int32Array;
    try {
      own = this.searchLocal(local.graph, points, queryCount, perShard[0] as number);
    } catch (error) {
      remote.catch(() => undefined); // answered or not, this search has failed
      throw error;
    }
    const answers = [own, ...(await remote)];
    const heap = new TopK(Math.max(kept, 1));
    const hits: SearchHit[] = [];
    for (let q = 0; q < queryCount; q++) {
      heap.clear();
      answers.forEach((rows, s) => {
        const n = perShard[s] as number;
        pushRescored(heap, rows, q * n, (q + 1) * n, this.candidates, queries, q);
      });
      hits.push(heap.toHit());
    }
    return hits;
  }

  /** Shard 0's neighbour rows, count × k, -1 where hnswlib returned fewer (as the workers answer). */
  private searchLocal(
    graph: HnswGraph,
    points: Float32Array,
    count: number,
    k: number,
  ): Int32Array {
    const rows = new Int32Array(count * k).fill(-1);
    if (k === 0) return rows;
    for (let q = 0; q < count; q++) {
      for (let d = 0; d < this.width; d++) this.point[d] = points[q * this.width + d] as number;
      rows.set(graph.searchKnn(this.point, k).neighbors, q * k);
    }
    return rows;
  }

  /**
   * Stops every worker and resolves once their threads have ended; pending
   * searches reject, later ones too. Idempotent.
   */
  async dispose(): Promise<void> {
    if (!this.disposed) {
      this.disposed = true;
      this.rejectAll(new Error('the parallel HNSW searcher was disposed'));
    }
    await this.stopWorkers();
  }

  private send(shard: ShardWorker, queries: Float32Array, count: number, k: number) {
    if (k === 0) return Promise.resolve(new Int32Array(0));
    const id = this.nextId++;
    return new Promise<Int32Array>((resolve, reject) => {
      shard.pending.set(id, { resolve, reject });
      if (this.inFlight++ === 0) for (const { worker } of this.shards) worker.ref();
      const batch: SearchBatch = { type: 'search', id, queries, count, k };
      shard.worker.postMessage(batch);
    });
  }

  /** Removes a search from the pending ones; the last one lets the process exit again. */
  private take(shard: ShardWorker, id: number): Pending | undefined {
    const pending = shard.pending.get(id);
    if (!pending) return undefined;
    shard.pending.delete(id);
    if (--this.inFlight === 0) for (const { worker } of this.shards) worker.unref();
    return pending;
  }

  private receive(shard: ShardWorker, message: SearchWorkerMessage): void {
    switch (message.type) {
      case 'ready':
        return shard.settleLoad();
      case 'load-failed':
        return shard.settleLoad(
          message.code === 'INDEX.INVALID'
            ? new PermanentError('INDEX.INVALID', message.message, {
                metadata: { file: shard.file },
              })
            : new Error(`search worker for ${shard.file} failed to load it: ${message.message}`),
        );
      case 'result':
        return this.take(shard, message.id)?.resolve(message.rows);
      case 'error':
        return this.take(shard, message.id)?.reject(
          new Error(`HNSW search in shard ${shard.shard} failed: ${message.message}`),
        );
    }
  }

  /** A worker died: the searcher fails for good (see the module comment). */
  private fail(shard: ShardWorker, what: string, cause?: unknown): void {
    if (this.disposed || this.failed) return;
    const error = new Error(
      `HNSW search worker of shard ${shard.shard} (${shard.file}) ${what}` +
        (this.started
          ? '; search is unavailable until the process restarts'
          : ' while loading its graph'),
      { cause },
    );
    this.failed = error;
    this.disposed = true;
    this.rejectAll(error);
    // The other workers are of no use any more; free their graphs.
    void this.stopWorkers();
    if (!this.started) return; // start() rejects with it instead
    try {
      this.onFailure?.(error);
    } catch {
      // A reporting callback must not turn a failed search into a crashed process.
    }
  }

  /** Raises the stop flag and asks every worker to end (cooperatively: see the module comment). */
  private stopWorkers(): Promise<void> {
    if (!this.stopping) {
      Atomics.store(this.stop, 0, 1);
      const close: SearchWorkerRequest = { type: 'close' };
      for (const { worker } of this.shards) {
        worker.ref(); // whoever awaits this sees the threads end
        worker.postMessage(close);
      }
      this.stopping = Promise.all(this.shards.map(({ exited }) => exited)).then(() => undefined);
    }
    return this.stopping;
  }

  private rejectAll(error: Error): void {
    for (const shard of this.shards) {
      shard.settleLoad(error);
      for (const id of [...shard.pending.keys()]) this.take(shard, id)?.reject(error);
    }
  }
}

/**
 * Starts a worker on the compiled `.js` file, or, when running from the
 * TypeScript sources (tests, tsx), through a bootstrap that registers tsx in
 * the thread first: on Node 20 an inherited `--import tsx` does not reach a
 * worker's own entry module. (The pattern of shard-build.ts's startBuildWorker.)
 */
function startSearchWorker(data: SearchWorkerData): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(`./shard-search-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  if (!fromSource) return new Worker(url, { workerData: data });
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: data });
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
