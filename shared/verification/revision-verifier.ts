/**
 * The verify step's `RevisionVerifier` (shared/usecases/chain-deps.ts) on top
 * of `verifyRevision`: thresholds from configuration over the defaults
 * (checked once, at creation, so a bad value fails the cold start), the
 * bundle read from the local directory the artifact store provides, and the
 * caller's header source bound to the service's ID-token audience, for the
 * tag URL and, during replay, the live revision's URL alike (both are URLs of
 * one Cloud Run service, which accepts tokens for its own audience only).
 */
import { readBundle, type ModelBundle } from '../ann/bundle/bundle-reader.js';
import { BUNDLE_FILES } from '../ann/bundle/bundle-files.js';
import type { Verification } from '../domain/run-document.js';
import { RecdeployError } from '../errors.js';
import type { Logger } from '../logging/logger.port.js';
import type { RevisionVerifier } from '../usecases/chain-deps.js';
import { CHECK_NAMES } from './check-names.js';
import { examplesHowTo } from './checks/smoke-predictions.js';
import {
  DEFAULT_VERIFICATION_THRESHOLDS,
  assertValidThresholds,
  type VerificationThresholds,
} from './thresholds.js';
import { plannedChecks, verifyRevision } from './verify-revision.js';

export interface RevisionVerifierOptions {
  /** Configured thresholds; the rest keep DEFAULT_VERIFICATION_THRESHOLDS. */
  readonly settings: Partial<VerificationThresholds>;
  readonly logger: Logger;
  /**
   * Headers for a request to `url` of a service accepting ID tokens for
   * `audience` (shared/adapters/gcp/id-token-headers.ts).
   */
  readonly headers?: (url: string, audience: string) => Promise<Record<string, string>>;
}

type VerifyRequest = Parameters<RevisionVerifier['verify']>[0];

export function createRevisionVerifier(options: RevisionVerifierOptions): RevisionVerifier {
  const thresholds: VerificationThresholds = {
    ...DEFAULT_VERIFICATION_THRESHOLDS,
    ...options.settings,
  };
  assertValidThresholds(thresholds);
  const { headers } = options;
  return {
    async verify(request) {
      // A route without a recorded mode: brute force is exact, scann/hnsw are served by HNSW.
      const mode = request.mode ?? (request.retrievalAlgorithm === 'brute_force' ? 'exact' : 'ann');
      let bundle: ModelBundle;
      try {
        bundle = await readBundle(request.bundleDir);
      } catch (error) {
        if (error instanceof RecdeployError && error.code === 'BUNDLE.INVALID') {
          return unreadableBundle(request, mode, error);
        }
        throw error;
      }
      return verifyRevision({
        baseUrl: request.tagUrl,
        modelName: request.modelName,
        bundle,
        runtime: request.runtime,
        mode,
        thresholds,
        logger: options.logger,
        ...(request.trainingRunId === undefined ? {} : { trainingRunId: request.trainingRunId }),
        ...(headers ? boundHeaders(headers, request) : {}),
        ...(request.replay === undefined ? {} : { replay: request.replay }),
      });
    },
  };
}

/**
 * The header source bound to the request's audience. Without one (a caller
 * that knows no service: a bare server in a test), each URL's origin stands
 * in, which is what a service without tokens ignores anyway.
 */
function boundHeaders(
  headers: NonNullable<RevisionVerifierOptions['headers']>,
  request: VerifyRequest,
): {
  headers: () => Promise<Record<string, string>>;
  liveHeaders: (url: string) => Promise<Record<string, string>>;
} {
  const audienceFor = (url: string) => request.audience ?? new URL(url).origin;
  return {
    headers: () => headers(request.tagUrl, audienceFor(request.tagUrl)),
    liveHeaders: (url) => headers(url, audienceFor(url)),
  };
}

/**
 * A bundle that cannot be read cannot be verified, and a revision is never
 * promoted blind: every planned check fails and says why, and a missing or
 * unusable examples.json says how to add one.
 */
function unreadableBundle(
  request: VerifyRequest,
  mode: 'ann' | 'exact',
  error: RecdeployError,
): { passed: false; verification: Verification } {
  const notRun = `not run: the bundle cannot be read: ${error.message}`;
  const file = error.metadata.file;
  const aboutExamples = typeof file === 'string' && file.endsWith(BUNDLE_FILES.examples);
  const checks = plannedChecks({ ...request, mode }).map((name) => ({
    name,
    passed: false,
    detail:
      aboutExamples && name === CHECK_NAMES.smokePredictions
        ? `${error.message}: ${examplesHowTo()}`
        : notRun,
  }));
  return { passed: false, verification: { checks } };
}
