/**
 * The ServingModel over a loaded bundle: preprocessing from the manifest
 * (the bundle's own code, so serving and training cannot disagree), the
 * TF.js query encoder, and a searcher; row indices become the original
 * product ids here and nowhere else.
 */
import {
  concatPrepared,
  type AsyncSearcher,
  type ModelBundle,
  type PreparedInputs,
  type Preprocessor,
  type ProductId,
  type QueryEncoder,
  type Searcher,
} from '@recdeploy/shared/ann';
import type { TestFaultInjector } from '../faults/test-faults.js';
import type { Instance } from '../protocol/instances.js';
import type { TensorValue } from '../protocol/json-tensor.js';
import type { Prediction } from '../protocol/predict-response.js';
import type { SignatureDef } from '../protocol/signature.js';
import type { PreparedRequest, SearchMode, ServingModel } from './serving-model.js';

export interface BundleServingModelParts {
  readonly name: string;
  readonly version: number;
  readonly bundle: ModelBundle;
  readonly signature: SignatureDef;
  readonly preprocessor: Preprocessor;
  readonly encoder: QueryEncoder;
  /** Synchronous (exact, HNSW on the main thread) or with worker threads (parallel HNSW). */
  readonly searcher: (Searcher & { dispose?(): void }) | AsyncSearcher;
  /** Threads one search runs on; 1 on the main thread alone. */
  readonly searchThreads: number;
  readonly maxK: number;
  /** Test only: see ServingModel.testFaults. */
  readonly testFaults?: TestFaultInjector | undefined;
}

export class BundleServingModel implements ServingModel {
  readonly name: string;
  readonly version: number;
  readonly signature: SignatureDef;
  readonly defaultK: number;
  readonly maxK: number;
  readonly catalogueSize: number;
  readonly encoderBackend: string;
  readonly encoderExecutor: 'fast-path' | 'tfjs';
  readonly mode: SearchMode;
  readonly searchThreads: number;
  readonly testFaults: TestFaultInjector | undefined;
  private readonly productIds: readonly ProductId[];

  constructor(private readonly parts: BundleServingModelParts) {
    this.name = parts.name;
    this.version = parts.version;
    this.signature = parts.signature;
    this.defaultK = parts.bundle.manifest.default_k;
    this.maxK = parts.maxK;
    this.catalogueSize = parts.bundle.candidates.count;
    this.encoderBackend = parts.encoder.backend;
    this.encoderExecutor = parts.encoder.executor;
    this.mode = parts.searcher.mode;
    this.searchThreads = parts.searchThreads;
    this.testFaults = parts.testFaults;
    this.productIds = parts.bundle.productIds;
  }

  /** Set once the searcher has failed for good (a search worker died). */
  get failure(): Error | undefined {
    const { searcher } = this.parts;
    return 'failure' in searcher ? searcher.failure : undefined;
  }

  prepare(instances: readonly Instance[]): PreparedInputs {
    return this.parts.preprocessor.instances(instances.map(forPreprocessor));
  }

  predict(requests: readonly PreparedRequest[], k: number): Promise<Prediction[]> {
    // Only this model's prepare() makes the requests it is given.
    return this.predictNow(requests as readonly PreparedInputs[], k);
  }

  async dispose(): Promise<void> {
    this.parts.encoder.dispose();
    await this.parts.searcher.dispose?.();
  }

  /** Encoding is synchronous; search is too, or partly in worker threads. */
  private async predictNow(requests: readonly PreparedInputs[], k: number): Promise<Prediction[]> {
    const prepared = requests.length === 1 ? requests[0]! : concatPrepared(requests);
    const queries = this.parts.encoder.encode(prepared);
    const dim = this.parts.encoder.dim;
    const kept = Math.min(k, this.catalogueSize);
    const finite = finiteRows(queries, prepared.count, dim);
    const hits =
      finite.length === 0
        ? []
        : await this.parts.searcher.search(compact(queries, finite, dim), finite.length, kept);
    const ranked = new Map(finite.map((row, i) => [row, hits[i]!]));
    return Array.from({ length: prepared.count }, (_, row): Prediction => {
      const hit = ranked.get(row);
      if (!hit) return nanPrediction(this.productIds, kept);
      // Row indices become the original product ids here, and only here.
      return { productIds: Array.from(hit.rows, (r) => this.productIds[r]!), scores: hit.scores };
    });
  }
}

/**
 * The instance as the bundle's preprocessor reads it: bytes from `{"b64": …}`
 * that are not UTF-8 go back to that form, which it hashes byte for byte.
 */
function forPreprocessor(instance: Instance): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(instance)) {
    Object.defineProperty(out, name, { value: toPlain(value), enumerable: true });
  }
  return out;
}

function toPlain(value: TensorValue): unknown {
  return value instanceof Uint8Array ? { b64: Buffer.from(value).toString('base64') } : value;
}

/** Rows whose embedding is entirely finite; the others have no nearest neighbours. */
function finiteRows(queries: Float32Array, count: number, dim: number): number[] {
  const rows: number[] = [];
  for (let row = 0; row < count; row++) {
    let finite = true;
    for (let d = row * dim; d < (row + 1) * dim && finite; d++)
      finite = Number.isFinite(queries[d]);
    if (finite) rows.push(row);
  }
  return rows;
}

function compact(queries: Float32Array, rows: readonly number[], dim: number): Float32Array {
  if (rows.length * dim === queries.length) return queries;
  const out = new Float32Array(rows.length * dim);
  rows.forEach((row, i) => out.set(queries.subarray(row * dim, (row + 1) * dim), i * dim));
  return out;
}

/**
 * A query with a NaN or infinite component (TF Serving accepts NaN and
 * Infinity in float inputs) scores NaN against every candidate, so it has no
 * ranking: brute force over NaN scores keeps catalogue order. The answer says
 * exactly that (the first k products, scores NaN) instead of asking the index,
 * whose behaviour on NaN is undefined.
 */
function nanPrediction(productIds: readonly ProductId[], k: number): Prediction {
  return { productIds: productIds.slice(0, k), scores: new Float32Array(k).fill(NaN) };
}
