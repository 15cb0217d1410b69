/**
 * Every predict answer (`:predict`, and the `:classify`/`:regress` refusals)
 * of a loaded model carries what it was answered from: X-Recdeploy-Run-Id
 * (omitted when no training run is known) and X-Recdeploy-Fingerprint. verify
 * checks them against the run it verifies (shared/verification/checks/
 * fingerprint.ts). Ids only; bodies and status codes stay TF Serving's.
 * While loading, or after a failed load, there is nothing to name, so no
 * header is sent.
 */
import { FINGERPRINT_HEADER, RUN_ID_HEADER } from '@recdeploy/shared/ann';
import type { ModelSlot } from '../model/model-slot.js';
import type { RestApi } from './rest-api.js';

/** The route labels (rest-api.ts) of answers that get the headers. */
const PREDICT_ROUTES: ReadonlySet<string> = new Set(['predict', 'classify', 'regress']);

/** `api`, with the fingerprint headers added to every predict answer once the model is loaded. */
export function withFingerprintHeaders(api: RestApi, slot: ModelSlot): RestApi {
  return async (request) => {
    const response = await api(request);
    const fingerprint = slot.model?.fingerprint;
    if (fingerprint === undefined || !PREDICT_ROUTES.has(response.route)) return response;
    return {
      ...response,
      headers: {
        ...response.headers,
        ...(fingerprint.trainingRunId === undefined
          ? {}
          : { [RUN_ID_HEADER]: fingerprint.trainingRunId }),
        [FINGERPRINT_HEADER]: fingerprint.id,
      },
    };
  };
}
