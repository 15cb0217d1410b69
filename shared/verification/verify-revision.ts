/**
 * Verifies a new revision at its tag URL before it gets traffic (DESIGN.md
 * §1, the verify step): status, metadata, smoke predictions, the served
 * fingerprint (ann-serving), latency and,
 * for an HNSW index, recall against exact search. A failing model never
 * throws: every planned check appears in the outcome, passed or with a
 * precise reason, and the caller decides (promote or keep traffic where it
 * is). It throws only when the verifier itself cannot work: invalid
 * thresholds (ConfigError), no request headers, a 401/403 from the platform,
 * an abort by the caller (TransientError DEPENDENCY.UNAVAILABLE; see
 * revision-client.ts), or an unexpected fault of the local exact search.
 * Running out of the checks' time budget (checksTimeoutMs) is the revision's
 * failure, not the verifier's: the unfinished checks fail and say so.
 */
import type { ModelBundle } from '../ann/bundle/bundle-reader.js';
import {
  verificationPassed,
  type Verification,
  type VerificationCheck,
} from '../domain/run-document.js';
import { truncateText } from '../errors.js';
import type { Logger } from '../logging/logger.port.js';
import type { RuntimeName } from '../ports/serving-platform.port.js';
import { CHECK_NAMES, type CheckName } from './check-names.js';
import { checkResult, expectedK, type CheckContext } from './check-context.js';
import { checkAnnRecall } from './checks/ann-recall.js';
import { checkFingerprint } from './checks/fingerprint.js';
import { checkLatency } from './checks/latency.js';
import { checkMetadataInputs } from './checks/metadata-inputs.js';
import { checkModelAvailable } from './checks/model-available.js';
import { checkReplay } from './checks/replay.js';
import { checkSmokePredictions } from './checks/smoke-predictions.js';
import { MAX_DETAIL_CHARS } from './format.js';
import { productIdCatalogue } from './product-id-check.js';
import type { ReplayInput } from './replay-input.js';
import { RevisionClient } from './revision-client.js';
import { assertValidThresholds, type VerificationThresholds } from './thresholds.js';

/** Which server runs the revision ('ann-serving' | 'tf-serving'); only ann-serving in `ann` mode approximates. */
export type ServingRuntime = RuntimeName;

export interface VerificationRequest {
  /** The revision's tag URL (it reaches this revision only, whatever the traffic split). */
  readonly baseUrl: string;
  /** The model name in the REST paths (`/v1/models/{modelName}`). */
  readonly modelName: string;
  /** The bundle the revision serves, already read by the caller (readBundle). */
  readonly bundle: ModelBundle;
  readonly runtime: ServingRuntime;
  /** ann-serving's SERVING_MODE; default `ann`, the server's default. Ignored for tf-serving. */
  readonly mode?: 'ann' | 'exact';
  readonly thresholds: VerificationThresholds;
  /** Headers for every request, e.g. `Authorization: Bearer <ID token>` for a private service. */
  readonly headers?: () => Promise<Record<string, string>>;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
  /** The training run being verified: the revision must answer with it (the `fingerprint` check). */
  readonly trainingRunId?: string;
  /** The live revision's sample to replay, or why there is none; absent: no `replay` check. */
  readonly replay?: ReplayInput;
  /** Headers for requests to the live revision's URL (the replay check's live side). */
  readonly liveHeaders?: (url: string) => Promise<Record<string, string>>;
}

export interface VerificationOutcome {
  /** True when every check passed. */
  readonly passed: boolean;
  /** What the run document stores. */
  readonly verification: Verification;
}

/** The detail of every check after a failed model_available. */
export const NOT_AVAILABLE = 'not run: model not available';

/**
 * The checks a request gets, in order. `ann_recall` is planned only where
 * results are approximate (ann-serving in `ann` mode): exact search and TF
 * Serving's brute force have nothing to compare against. `fingerprint` is
 * planned for ann-serving only: TF Serving sends no X-Recdeploy-* headers.
 */
export function plannedChecks(
  request: Pick<VerificationRequest, 'runtime' | 'mode' | 'replay'>,
): CheckName[] {
  return [
    CHECK_NAMES.modelAvailable,
    CHECK_NAMES.metadataInputs,
    CHECK_NAMES.smokePredictions,
    ...(request.runtime === 'ann-serving' ? [CHECK_NAMES.fingerprint] : []),
    CHECK_NAMES.latency,
    ...(isApproximate(request) ? [CHECK_NAMES.annRecall] : []),
    ...(request.replay !== undefined ? [CHECK_NAMES.replay] : []),
  ];
}

/** Only ann-serving in `ann` mode approximates; exact search and TF Serving have nothing to compare. */
function isApproximate(request: Pick<VerificationRequest, 'runtime' | 'mode'>): boolean {
  return request.runtime === 'ann-serving' && (request.mode ?? 'ann') === 'ann';
}

export async function verifyRevision(request: VerificationRequest): Promise<VerificationOutcome> {
  assertValidThresholds(request.thresholds);
  const planned = plannedChecks(request);
  const logger = request.logger.child({ revisionUrl: request.baseUrl, model: request.modelName });
  // The checks' time budget aborts what still runs; the caller's abort still throws.
  const budget = AbortSignal.timeout(request.thresholds.checksTimeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, budget]) : budget;
  const context: CheckContext = {
    client: new RevisionClient({
      baseUrl: request.baseUrl,
      modelName: request.modelName,
      requestTimeoutMs: request.thresholds.requestTimeoutMs,
      ...(request.headers ? { headers: request.headers } : {}),
      signal,
    }),
    bundle: request.bundle,
    thresholds: request.thresholds,
    logger,
    k: expectedK(request.bundle),
    catalogue: productIdCatalogue(
      request.bundle.productIds,
      request.bundle.manifest.product_id_dtype,
    ),
  };

  const checks: VerificationCheck[] = [];
  let verification: Omit<Verification, 'checks'> = {};
  const record = (check: VerificationCheck) => {
    const bounded = { ...check, detail: truncateText(check.detail ?? '', MAX_DETAIL_CHARS) };
    checks.push(bounded);
    // A skipped check (nothing to replay yet) is expected, not a warning.
    if (bounded.passed || bounded.skipped === true)
      logger.info('verification check', { ...bounded });
    else logger.warn('verification check', { ...bounded });
  };

  try {
    const available = await checkModelAvailable(context);
    record(available);
    if (!available.passed) {
      for (const name of planned.slice(1)) record(checkResult(name, false, NOT_AVAILABLE));
    } else {
      record(await checkMetadataInputs(context));
      record(await checkSmokePredictions(context));
      if (planned.includes(CHECK_NAMES.fingerprint)) {
        const fingerprint = await checkFingerprint(context, request.trainingRunId);
        record(fingerprint.check);
        if (fingerprint.expected) verification = { fingerprint: fingerprint.expected };
      }
      const latency = await checkLatency(context);
      record(latency.check);
      if (latency.p50Ms !== undefined) {
        verification = {
          ...verification,
          latencyP50Ms: latency.p50Ms,
          latencyP99Ms: latency.p99Ms,
        };
      }
      if (planned.includes(CHECK_NAMES.annRecall)) {
        const recall = await checkAnnRecall(context);
        record(recall.check);
        if (recall.recallAtK) verification = { ...verification, recallAtK: recall.recallAtK };
      }
      if (request.replay !== undefined) {
        const replay = await checkReplay(context, request.replay, {
          approximate: isApproximate(request),
          liveClient: (url) => liveClientFor(request, url, signal),
        });
        record(replay.check);
        if (replay.report) verification = { ...verification, replay: replay.report };
      }
    }
  } catch (error) {
    if (!budget.aborted || request.signal?.aborted === true) throw error;
    // Out of time: the check that was running failed, the others did not run.
    const seconds = request.thresholds.checksTimeoutMs / 1000;
    const why = `the checks' time budget of ${seconds} s (VERIFY_CHECKS_TIMEOUT_MS) ran out`;
    const done = new Set(checks.map((check) => check.name));
    planned
      .filter((name) => !done.has(name))
      .forEach((name, i) =>
        record(checkResult(name, false, `${i === 0 ? 'stopped' : 'not run'}: ${why}`)),
      );
  }
  const passed = verificationPassed(checks);
  const failed = checks
    .filter((check) => !check.passed && check.skipped !== true)
    .map((check) => check.name);
  logger.info(passed ? 'revision verified' : 'revision failed verification', { failed });
  return { passed, verification: { checks, ...verification } };
}

/** The live revision's client: the candidate's timeouts and abort signal, headers for its URL. */
function liveClientFor(
  request: VerificationRequest,
  url: string,
  signal: AbortSignal,
): RevisionClient {
  const { liveHeaders } = request;
  return new RevisionClient({
    baseUrl: url,
    modelName: request.modelName,
    requestTimeoutMs: request.thresholds.requestTimeoutMs,
    ...(liveHeaders ? { headers: () => liveHeaders(url) } : {}),
    signal,
  });
}
