/**
 * The ServingModel over a loaded bundle: preprocessing from the manifest
 * (the bundle's own code, so serving and training cannot disagree), the
 * TF.js query encoder, and a searcher; row indices become the original
 * product ids here and nowhere else.
 *
 * NaN and ±Infinity are valid float inputs (TF Serving's parser takes them),
 * but a query with one has no ranking: a TensorFlow tower propagates NaN into
 * every score. Such an instance is answered so (unrankedPrediction), whatever
 * this bundle's preprocessing or encoder would have made of the value.
 */
import {
  concatPrepared,
  type AsyncSearcher,
  type ModelBundle,
  type ModelFingerprint,
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
import type { DataType, SignatureDef } from '../protocol/signature.js';
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
  /** See ServingModel.fingerprint (load-serving-model.ts always sets it). */
  readonly fingerprint?: ModelFingerprint | undefined;
}

/** What prepare() gives the batcher: the preprocessed inputs and which rows have no ranking. */
interface BundlePrepared extends PreparedRequest {
  readonly inputs: PreparedInputs;
  /** Per row: a float input is NaN or ±Infinity. */
  readonly nonFinite: readonly boolean[];
}

const FLOAT_DTYPES: ReadonlySet<DataType> = new Set(['DT_FLOAT', 'DT_DOUBLE', 'DT_HALF']);

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
  readonly fingerprint: ModelFingerprint | undefined;
  private readonly productIds: readonly ProductId[];
  private readonly floatInputs: readonly string[];
  /** The id an unranked prediction lists k times: no product chosen (see unrankedPrediction). */
  private readonly placeholderId: ProductId;

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
    this.fingerprint = parts.fingerprint;
    this.productIds = parts.bundle.productIds;
    this.floatInputs = [...parts.signature.inputs]
      .filter(([, spec]) => FLOAT_DTYPES.has(spec.dtype))
      .map(([name]) => name);
    this.placeholderId = parts.bundle.manifest.product_id_dtype === 'string' ? '' : -1;
  }

  /** Set once the searcher has failed for good (a search worker died). */
  get failure(): Error | undefined {
    const { searcher } = this.parts;
    return 'failure' in searcher ? searcher.failure : undefined;
  }

  prepare(instances: readonly Instance[]): BundlePrepared {
    const inputs = this.parts.preprocessor.instances(instances.map(forPreprocessor));
    const nonFinite = instances.map((instance) =>
      this.floatInputs.some((name) => !Number.isFinite(instance[name])),
    );
    return { count: inputs.count, inputs, nonFinite };
  }

  predict(requests: readonly PreparedRequest[], k: number): Promise<Prediction[]> {
    // Only this model's prepare() makes the requests it is given.
    return this.predictNow(requests as readonly BundlePrepared[], k);
  }

  async dispose(): Promise<void> {
    this.parts.encoder.dispose();
    await this.parts.searcher.dispose?.();
  }

  /** Encoding is synchronous; search is too, or partly in worker threads. */
  private async predictNow(requests: readonly BundlePrepared[], k: number): Promise<Prediction[]> {
    const prepared =
      requests.length === 1 ? requests[0]!.inputs : concatPrepared(requests.map((r) => r.inputs));
    const nonFinite = requests.flatMap((request) => request.nonFinite);
    const queries = this.parts.encoder.encode(prepared);
    const dim = this.parts.encoder.dim;
    const kept = Math.min(k, this.catalogueSize);
    const finite = finiteRows(queries, prepared.count, dim).filter((row) => !nonFinite[row]);
    const hits =
      finite.length === 0
        ? []
        : await this.parts.searcher.search(compact(queries, finite, dim), finite.length, kept);
    const ranked = new Map(finite.map((row, i) => [row, hits[i]!]));
    return Array.from({ length: prepared.count }, (_, row): Prediction => {
      const hit = ranked.get(row);
      if (!hit) return unrankedPrediction(this.placeholderId, kept);
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
 * The answer for a query with no ranking: a NaN or ±Infinity float input, or
 * an embedding that is not finite. Its scores are NaN, as a TensorFlow tower
 * propagates them. TensorFlow's top_k would then name the first k catalogue
 * rows: its comparator finds neither of two NaN scores greater and falls back
 * to index order (tensorflow/core/kernels/topk_op.cc, TopKFunctor<CPUDevice>:
 * `stable_comp`; for k = 1 no value equals the NaN maximum and index 0 stays).
 * Those products were not chosen by anything, so instead of them the answer
 * lists a placeholder id k times (-1 for int64 ids, "" for string ids): the
 * tensor keeps its [batch, k] shape, and the ids read as no product at all.
 * The index is not asked (its behaviour on NaN is undefined).
 */
function unrankedPrediction(placeholder: ProductId, k: number): Prediction {
  return {
    productIds: new Array<ProductId>(k).fill(placeholder),
    scores: new Float32Array(k).fill(NaN),
  };
}
