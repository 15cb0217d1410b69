/**
 * Contracts between the parts of the model-serving stack: the model bundle
 * (DESIGN.md §5), the query encoder, and the searchers (exact and HNSW).
 * The serving service, the CLI and the deploy step compose these.
 */

/** A product id as the trainer wrote it: string or integer, per the manifest. */
export type ProductId = string | number;

/** Candidate embeddings: N × D little-endian float32, row-major. */
export interface CandidateMatrix {
  readonly vectors: Float32Array;
  readonly count: number;
  readonly dim: number;
}

/** The k best candidates of one query, best first. */
export interface SearchHit {
  /** Row indices into the candidate matrix (not product ids). */
  readonly rows: Int32Array;
  /** Dot products with the query, descending, same length as rows. */
  readonly scores: Float32Array;
}

/** Retrieval over a candidate matrix; `ann` approximates, `exact` is brute force. */
export interface Searcher {
  readonly mode: 'ann' | 'exact';
  /**
   * Top-k by dot product for `queryCount` queries packed row-major in
   * `queries` (queryCount × D). Synchronous: the caller decides where it runs.
   */
  search(queries: Float32Array, queryCount: number, k: number): SearchHit[];
}

/**
 * A Searcher whose work runs partly off the calling thread
 * (ParallelHnswSearcher: a worker thread for each HNSW shard but the first). Same contract as {@link Searcher}, with
 * the answer and argument errors delivered through the promise. Index
 * building and calibration keep the synchronous Searcher.
 */
export interface AsyncSearcher {
  readonly mode: 'ann' | 'exact';
  search(queries: Float32Array, queryCount: number, k: number): Promise<SearchHit[]>;
  /**
   * Set, for good, once the searcher cannot answer any more (a worker thread
   * died); every search then rejects with it. Undefined while healthy.
   */
  readonly failure: Error | undefined;
  /** Stops the threads; later searches reject. */
  dispose(): Promise<void>;
}
