/**
 * The serving process's configuration, read once from the environment at
 * start (STYLE.md §7). Every problem is reported at once as a ConfigError.
 */
import os from 'node:os';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import { readEnv, type Env } from '@recdeploy/shared';
import { MAX_REPLAY_SAMPLE_SIZE } from '@recdeploy/shared/ann';
import { TrainingRunIdSchema } from '@recdeploy/shared/ann';
import { DEFAULT_MAX_REQUEST_COST } from '../protocol/request-cost.js';
import type { SearchMode } from '../model/serving-model.js';
import {
  readReplaySampleUri,
  type ReplaySampleLocation,
} from '../replay/replay-sample-location.js';

const LEVEL = Type.Union(
  [Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')],
  { default: 'info' },
);

export const ServingEnvSchema = Type.Object({
  /** The model bundle: `gs://bucket/dir`, `file:///dir` or a plain path (the artifact or its ann/). */
  MODEL_PATH: Type.String({ minLength: 1 }),
  /** The name clients use in `/v1/models/{name}`; no `/` or `:` (TF Serving's URL grammar). */
  MODEL_NAME: Type.String({ default: 'recommender', pattern: '^[^/:?#]{1,256}$' }),
  MODEL_VERSION: Type.Integer({ default: 1, minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  PORT: Type.Integer({ default: 8501, minimum: 0, maximum: 65_535 }),
  /**
   * Loopback unless told otherwise: started by hand on a laptop, the server
   * is not reachable from the network. The container image sets 0.0.0.0
   * (Cloud Run), the local platform sets it per revision.
   */
  HOST: Type.String({ default: '127.0.0.1', minLength: 1 }),
  /** `ann`: HNSW index (built at start, with a warning, if the bundle has none); `exact`: brute force. */
  SERVING_MODE: Type.Union([Type.Literal('ann'), Type.Literal('exact')], { default: 'ann' }),
  /**
   * `auto`: search an index of S ≥ 2 shards on S threads at once (the main
   * thread takes one shard, a worker thread each other one); `0`: every shard
   * on the main thread (also what `auto` does for one shard). Ignored in
   * exact mode.
   */
  SEARCH_THREADS: Type.Union([Type.Literal('auto'), Type.Literal('0')], { default: 'auto' }),
  /** Most instances per micro-batch (TF Serving's max_batch_size). */
  BATCH_MAX_SIZE: Type.Integer({ default: 64, minimum: 1, maximum: 100_000 }),
  /** Longest wait for a batch to fill while idle; 0 batches what arrives in one event-loop turn. */
  BATCH_TIMEOUT_MICROS: Type.Integer({ default: 0, minimum: 0, maximum: 10_000_000 }),
  /** Batches that may wait; beyond BATCH_MAX_SIZE × this many instances, predict answers 503. */
  BATCH_MAX_ENQUEUED: Type.Integer({ default: 16, minimum: 1, maximum: 100_000 }),
  /**
   * Admission control (admission/admission-controller.ts): the queueing delay,
   * in ms, a predict request may meet once overload is standing; beyond it,
   * 503 with Retry-After at once. 0 turns it off (only the queue bound sheds).
   */
  ADMISSION_TARGET_MS: Type.Integer({ default: 20, minimum: 0, maximum: 60_000 }),
  /** How long the delay may stay above the target (a burst) before shedding starts, ms. */
  ADMISSION_INTERVAL_MS: Type.Integer({ default: 200, minimum: 1, maximum: 600_000 }),
  /** Retry-After, in seconds, on every 503 that sheds load. */
  ADMISSION_RETRY_AFTER_S: Type.Integer({ default: 1, minimum: 0, maximum: 3600 }),
  /** Most instances in one predict request (400 beyond). */
  MAX_INSTANCES: Type.Integer({ default: 256, minimum: 1, maximum: 1_000_000 }),
  /**
   * Most instances × k in one predict request (400 beyond): search work and
   * answer size both grow with it (protocol/request-cost.ts).
   */
  MAX_REQUEST_COST: Type.Integer({
    default: DEFAULT_MAX_REQUEST_COST,
    minimum: 1,
    maximum: Number.MAX_SAFE_INTEGER,
  }),
  /** Largest per-request k; default: the manifest's max_k, else 1000. */
  MAX_K: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  /** Largest request body, after gzip decoding (413 beyond). */
  BODY_LIMIT_BYTES: Type.Integer({ default: 1_048_576, minimum: 1024, maximum: 1_073_741_824 }),
  /** After SIGTERM, how long in-flight requests may take (Cloud Run kills 10 s after SIGTERM). */
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ default: 8000, minimum: 0, maximum: 600_000 }),
  /** Where gs:// bundles are downloaded. */
  MODEL_CACHE_DIR: Type.Optional(Type.String({ minLength: 1 })),
  LOG_LEVEL: LEVEL,
  /**
   * The training run this revision serves (the deploy step sets it), sent
   * back in every predict answer's X-Recdeploy-Run-Id; without it, the
   * bundle's declared `fingerprint.training_run_id`.
   */
  TRAINING_RUN_ID: Type.Optional(TrainingRunIdSchema),
  /**
   * Test only: `1` lets a bundle's ann/test-faults.json inject failures and
   * delays into predict answers (faults/test-faults.ts); otherwise the file
   * is ignored with a warning.
   */
  ANN_SERVING_ALLOW_TEST_FAULTS: Type.Union([Type.Literal('0'), Type.Literal('1')], {
    default: '0',
  }),
  /**
   * Set by npm to the directory it was run from: `npm start -w services/ann-serving`
   * runs in the workspace folder, but a relative MODEL_PATH means the caller's.
   */
  INIT_CWD: Type.Optional(Type.String({ minLength: 1 })),
  /**
   * Replay sample (replay/): how many served predict instances to keep, 0 =
   * off. Off by default: instances can hold customer data.
   */
  REPLAY_SAMPLE_SIZE: Type.Integer({ default: 0, minimum: 0, maximum: MAX_REPLAY_SAMPLE_SIZE }),
  /** Where the sample is written: an absolute path, file:// or gs://bucket/object. */
  REPLAY_SAMPLE_URI: Type.Optional(Type.String({ minLength: 1 })),
  /** Seconds between sample writes, at most one per interval (the cloud: 60). */
  REPLAY_PERSIST_INTERVAL_S: Type.Number({ default: 60, minimum: 1, maximum: 86_400 }),
});

/** SEARCH_THREADS. */
export type SearchThreads = 'auto' | 0;

export interface ServingConfig {
  readonly modelPath: string;
  readonly modelName: string;
  readonly modelVersion: number;
  readonly port: number;
  readonly host: string;
  readonly mode: SearchMode;
  /** `auto`: one search worker thread per HNSW shard when there are ≥ 2; 0: the main thread. */
  readonly searchThreads: SearchThreads;
  readonly batching: {
    readonly maxBatchSize: number;
    readonly timeoutMicros: number;
    readonly maxEnqueuedBatches: number;
  };
  /** Delay-based shedding; targetMs 0: off. */
  readonly admission: {
    readonly targetMs: number;
    readonly intervalMs: number;
    readonly retryAfterSeconds: number;
  };
  readonly maxInstances: number;
  /** Most instances × k in one request. */
  readonly maxRequestCost: number;
  /** Undefined: the manifest decides. */
  readonly maxK: number | undefined;
  readonly bodyLimitBytes: number;
  readonly shutdownTimeoutMs: number;
  readonly modelCacheDir: string;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  /** ANN_SERVING_ALLOW_TEST_FAULTS=1 (test only). */
  readonly allowTestFaults: boolean;
  /** TRAINING_RUN_ID, when set. */
  readonly trainingRunId?: string;
  /** Undefined: no sample is kept (REPLAY_SAMPLE_SIZE=0, the default). */
  readonly replaySample: ReplaySampleConfig | undefined;
}

export interface ReplaySampleConfig {
  readonly capacity: number;
  readonly location: ReplaySampleLocation;
  readonly persistIntervalMs: number;
}

/** Parses the serving variables; throws ConfigError listing every problem. */
export function loadServingConfig(env: Env = process.env): Readonly<ServingConfig> {
  const vars = readEnv(ServingEnvSchema, env, (v) => {
    const problems: string[] = [];
    // A request the queue can never hold would always be refused with 503.
    if (v.MAX_INSTANCES > v.BATCH_MAX_SIZE * v.BATCH_MAX_ENQUEUED) {
      problems.push(
        `MAX_INSTANCES=${v.MAX_INSTANCES} exceeds the batch queue (BATCH_MAX_SIZE × BATCH_MAX_ENQUEUED = ${v.BATCH_MAX_SIZE * v.BATCH_MAX_ENQUEUED})`,
      );
    }
    // The interval is the burst allowance above the target: shorter would be no allowance.
    if (v.ADMISSION_TARGET_MS > 0 && v.ADMISSION_INTERVAL_MS < v.ADMISSION_TARGET_MS) {
      problems.push(
        `ADMISSION_INTERVAL_MS=${v.ADMISSION_INTERVAL_MS} is shorter than ADMISSION_TARGET_MS=${v.ADMISSION_TARGET_MS}`,
      );
    }
    problems.push(...replaySampleProblems(v.REPLAY_SAMPLE_SIZE, v.REPLAY_SAMPLE_URI));
    return problems;
  });
  return Object.freeze({
    modelPath: resolveModelPath(vars.MODEL_PATH, vars.INIT_CWD),
    modelName: vars.MODEL_NAME,
    modelVersion: vars.MODEL_VERSION,
    port: vars.PORT,
    host: vars.HOST,
    mode: vars.SERVING_MODE,
    searchThreads: vars.SEARCH_THREADS === '0' ? 0 : 'auto',
    batching: Object.freeze({
      maxBatchSize: vars.BATCH_MAX_SIZE,
      timeoutMicros: vars.BATCH_TIMEOUT_MICROS,
      maxEnqueuedBatches: vars.BATCH_MAX_ENQUEUED,
    }),
    admission: Object.freeze({
      targetMs: vars.ADMISSION_TARGET_MS,
      intervalMs: vars.ADMISSION_INTERVAL_MS,
      retryAfterSeconds: vars.ADMISSION_RETRY_AFTER_S,
    }),
    maxInstances: vars.MAX_INSTANCES,
    maxRequestCost: vars.MAX_REQUEST_COST,
    maxK: vars.MAX_K,
    bodyLimitBytes: vars.BODY_LIMIT_BYTES,
    shutdownTimeoutMs: vars.SHUTDOWN_TIMEOUT_MS,
    modelCacheDir: vars.MODEL_CACHE_DIR ?? path.join(os.tmpdir(), 'recdeploy-models'),
    logLevel: vars.LOG_LEVEL,
    allowTestFaults: vars.ANN_SERVING_ALLOW_TEST_FAULTS === '1',
    ...(vars.TRAINING_RUN_ID === undefined ? {} : { trainingRunId: vars.TRAINING_RUN_ID }),
    replaySample: replaySampleConfig(
      vars.REPLAY_SAMPLE_SIZE,
      vars.REPLAY_SAMPLE_URI,
      vars.REPLAY_PERSIST_INTERVAL_S,
    ),
  });
}

/** URLs (gs://, file://) stay as they are; a relative path is made absolute against the caller's directory. */
function resolveModelPath(modelPath: string, callerDir: string | undefined): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(modelPath)) return modelPath;
  return path.resolve(callerDir ?? process.cwd(), modelPath);
}

function replaySampleProblems(size: number, uri: string | undefined): string[] {
  if (uri === undefined) {
    return size > 0
      ? [
          `REPLAY_SAMPLE_URI is required when REPLAY_SAMPLE_SIZE=${size} (an absolute path, file:// or gs://bucket/object)`,
        ]
      : [];
  }
  const read = readReplaySampleUri(uri);
  return 'problem' in read
    ? [`REPLAY_SAMPLE_URI=${JSON.stringify(uri)} is invalid: it ${read.problem}`]
    : [];
}

/** Only once the variables passed replaySampleProblems. */
function replaySampleConfig(
  size: number,
  uri: string | undefined,
  intervalSeconds: number,
): ReplaySampleConfig | undefined {
  if (size === 0 || uri === undefined) return undefined;
  const read = readReplaySampleUri(uri);
  if ('problem' in read) return undefined;
  return Object.freeze({
    capacity: size,
    location: read.location,
    persistIntervalMs: Math.round(intervalSeconds * 1000),
  });
}
