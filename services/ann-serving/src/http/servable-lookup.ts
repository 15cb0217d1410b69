/**
 * Finding the servable a request names, with TF Serving's answers when it
 * does not exist: NotFound (404) for an unknown model or version, and
 * InvalidArgument (400) for any version label, because this server has no
 * labels configured. While the model loads, 503 with Retry-After: TF Serving
 * only starts listening once loaded, but this server listens at once so that
 * Cloud Run's startup probe can watch it, and "try again shortly" is the
 * honest answer there.
 */
import type { ModelSlot } from '../model/model-slot.js';
import type { ServingModel } from '../model/serving-model.js';
import type { VersionChoice } from '../protocol/rest-routes.js';
import { TfStatusError, invalidArgument } from '../protocol/tf-status.js';

/** The loaded model for a predict or metadata request, or the error to answer with. */
export function servableFor(slot: ModelSlot, model: string, choice: VersionChoice): ServingModel {
  if (choice.kind === 'label') {
    throw invalidArgument(`Unrecognized servable version label: ${choice.label}`);
  }
  const request =
    choice.kind === 'version' ? `Specific(${model}, ${choice.version})` : `Latest(${model})`;
  const known =
    model === slot.name && (choice.kind === 'latest' || choice.version === BigInt(slot.version));
  if (!known) throw new TfStatusError('NOT_FOUND', `Servable not found for request: ${request}`);
  if (slot.model) return slot.model;
  const reason = slot.loadError ? `failed to load: ${slot.loadError.message}` : 'is still loading';
  throw new TfStatusError('UNAVAILABLE', `Servable ${request} is not available: it ${reason}`, 1);
}

/**
 * Status requests: TF Serving's GetModelStatus looks at the version only, so
 * a label (even an unknown one) lists every version.
 */
export function checkStatusTarget(slot: ModelSlot, model: string, choice: VersionChoice): void {
  if (model !== slot.name) {
    throw new TfStatusError('NOT_FOUND', `Could not find any versions of model ${model}`);
  }
  if (choice.kind === 'version' && choice.version !== BigInt(slot.version)) {
    throw new TfStatusError(
      'NOT_FOUND',
      `Could not find version ${choice.version} of model ${model}`,
    );
  }
}
