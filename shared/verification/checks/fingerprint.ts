/**
 * `fingerprint`: the revision serves the model of the run being verified.
 * ann-serving answers every predict with X-Recdeploy-Run-Id (the training
 * run it was deployed for) and X-Recdeploy-Fingerprint (the id of the
 * bundle it loaded: query model weights and candidate embeddings,
 * bundle-fingerprint.ts). Both must equal what this run's bundle gives: a
 * revision that loaded another bundle (a stale cache, a wrong MODEL_PATH,
 * files replaced after export) fails here, before any traffic moves.
 */
import {
  bundleFingerprint,
  FINGERPRINT_HEADER,
  RUN_ID_HEADER,
} from '../../ann/bundle/bundle-fingerprint.js';
import type { ModelFingerprint, VerificationCheck } from '../../domain/run-document.js';
import { RecdeployError } from '../../errors.js';
import { CHECK_NAMES } from '../check-names.js';
import { checkResult, type CheckContext } from '../check-context.js';
import { describeFailure } from '../revision-client.js';

export interface FingerprintMeasurement {
  readonly check: VerificationCheck;
  /** What the revision must serve; absent when the bundle's files do not match its manifest. */
  readonly expected?: ModelFingerprint;
}

/**
 * Computes the expected fingerprint from the bundle (the run's training run
 * id when given, else the one the bundle declares) and compares it to the
 * headers of one predict answer of the first example instance.
 */
export async function checkFingerprint(
  context: CheckContext,
  trainingRunId: string | undefined,
): Promise<FingerprintMeasurement> {
  const fail = (detail: string) => checkResult(CHECK_NAMES.fingerprint, false, detail);
  let computed: ModelFingerprint;
  try {
    computed = await bundleFingerprint(context.bundle);
  } catch (error) {
    if (error instanceof RecdeployError && error.code === 'BUNDLE.INVALID') {
      return { check: fail(error.message) };
    }
    throw error;
  }
  const runId = trainingRunId ?? computed.trainingRunId;
  const expected: ModelFingerprint = {
    ...computed,
    ...(runId === undefined ? {} : { trainingRunId: runId }),
  };
  const example = context.bundle.examples[0];
  if (example === undefined)
    return { check: fail('the bundle has no example instance to predict'), expected };
  const result = await context.client.predict([example]);
  if ('failure' in result)
    return { check: fail(`no answer to read it from: ${describeFailure(result)}`), expected };
  const served = {
    id: result.answer.headers[FINGERPRINT_HEADER],
    runId: result.answer.headers[RUN_ID_HEADER],
  };
  const wanted = describe(expected.id, expected.trainingRunId);
  if (served.id === undefined) {
    return {
      check: fail(
        `the predict answer (HTTP ${result.answer.status}) has no X-Recdeploy-Fingerprint header; expected ${wanted}`,
      ),
      expected,
    };
  }
  const problems = [
    served.id === expected.id ? undefined : 'fingerprint',
    served.runId === expected.trainingRunId ? undefined : 'training run',
  ].filter((problem): problem is string => problem !== undefined);
  if (problems.length > 0) {
    return {
      check: fail(
        `the revision serves ${describe(served.id, served.runId)}, expected ${wanted} ` +
          `(different ${problems.join(' and ')}: it loaded another bundle than this run's)`,
      ),
      expected,
    };
  }
  return {
    check: checkResult(CHECK_NAMES.fingerprint, true, `the revision serves ${wanted}`),
    expected,
  };
}

function describe(id: string, runId: string | undefined): string {
  return `fingerprint ${id} of ${runId === undefined ? 'an unnamed training run' : `training run ${runId}`}`;
}
