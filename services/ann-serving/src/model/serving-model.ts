/**
 * The port between the REST layer and the model: everything the server
 * needs to answer status, metadata and predict, and nothing about how a
 * bundle is read, a query encoded or candidates searched. The REST layer
 * and its tests depend on this interface only; load-serving-model.ts
 * composes the real one from a model bundle.
 */
import type { ModelFingerprint } from '@recdeploy/shared/ann';
import type { TestFaultInjector } from '../faults/test-faults.js';
import type { Instance } from '../protocol/instances.js';
import type { Prediction } from '../protocol/predict-response.js';
import type { SignatureDef } from '../protocol/signature.js';

/** How candidates are retrieved: an HNSW index, or brute force. */
export type SearchMode = 'ann' | 'exact';

/** A request's instances as the model prepared them; only the model that made it reads it. */
export interface PreparedRequest {
  /** Number of instances. */
  readonly count: number;
}

export interface ServingModel {
  /** The servable name clients use in URLs (MODEL_NAME). */
  readonly name: string;
  /** The one version this server serves (MODEL_VERSION). */
  readonly version: number;
  /** The `serving_default` signature: the manifest's inputs; outputs product_ids and scores. */
  readonly signature: SignatureDef;
  /** k when a request does not ask for one (the manifest's default_k). */
  readonly defaultK: number;
  /** The largest k a request may ask for. */
  readonly maxK: number;
  /** Number of candidate products. */
  readonly catalogueSize: number;
  /** The TensorFlow.js backend encoding queries (`tensorflow`, `wasm`, `cpu`, …). */
  readonly encoderBackend: string;
  /** How the query tower runs: the typed-array fast path, or TF.js (shared/ann/encoder). */
  readonly encoderExecutor: 'fast-path' | 'tfjs';
  readonly mode: SearchMode;
  /** Threads one search runs on (the shards in parallel); 1 or absent: the main thread alone. */
  readonly searchThreads?: number;
  /**
   * Set, for good, once the model cannot predict any more (a search worker
   * thread died): readiness then fails so the instance is replaced.
   */
  readonly failure?: Error | undefined;
  /**
   * Test only: failures and delays to inject into predict answers, set when
   * the bundle has ann/test-faults.json and ANN_SERVING_ALLOW_TEST_FAULTS=1
   * (faults/test-faults.ts).
   */
  readonly testFaults?: TestFaultInjector | undefined;
  /**
   * What this server answers from (bundle-fingerprint.ts), sent with every
   * predict answer: `trainingRunId` is the run the revision was deployed for
   * (TRAINING_RUN_ID), else the one the bundle declares.
   */
  readonly fingerprint?: ModelFingerprint | undefined;

  /**
   * Validates and preprocesses one request's instances before they join a
   * batch, so that one client's bad instance cannot fail other clients'
   * requests (and the batch does not preprocess again). Throws
   * PermanentError('INPUT.INVALID') with a message for the client.
   */
  prepare(instances: readonly Instance[]): PreparedRequest;

  /**
   * The top `k` products for every instance of `requests` (prepared by this
   * model; several requests form a micro-batch), in order, best first, with
   * the original product ids.
   */
  predict(requests: readonly PreparedRequest[], k: number): Promise<Prediction[]>;

  /** Releases native resources (TF.js tensors, the index). */
  dispose(): Promise<void>;
}
