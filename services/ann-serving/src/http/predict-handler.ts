/**
 * `POST …:predict` (and `:classify`/`:regress`, which this model's predict
 * signature cannot serve). The steps run in TF Serving's order, so the same
 * mistake gets the same answer: parse the body, read signature_name, find
 * the servable, check the signature, read the inputs. Then the limits this
 * server adds, the model's own validation, and the micro-batched prediction.
 * A request whose client has gone is dropped before each costly step
 * (preparing its inputs, its batch, encoding the answer).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@recdeploy/shared';
import { throwIfAbandoned } from '../admission/abandoned.js';
import type { ShedReason } from '../admission/admission-controller.js';
import { BatchedPredictor } from '../batching/batched-predictor.js';
import { OverloadedError, QueueFullError } from '../batching/micro-batcher.js';
import { INJECTED_FAULT_MESSAGE } from '../faults/test-faults.js';
import { logDegenerateAnswers } from '../metrics/degenerate-answers.js';
import type { ModelSlot } from '../model/model-slot.js';
import type { PreparedRequest, ServingModel } from '../model/serving-model.js';
import { toInstances, type Instance } from '../protocol/instances.js';
import {
  decodeInputs,
  parseRequestDocument,
  signatureNameOf,
} from '../protocol/predict-request.js';
import { predictResponseBody } from '../protocol/predict-response.js';
import { checkRequestCost } from '../protocol/request-cost.js';
import { requestedK } from '../protocol/requested-k.js';
import type { RestRoute } from '../protocol/rest-routes.js';
import { DEFAULT_SIGNATURE, INIT_OP_SIGNATURE } from '../protocol/signature.js';
import { TfStatusError, invalidArgument } from '../protocol/tf-status.js';
import type { RestRequest } from './rest-types.js';
import { servableFor } from './servable-lookup.js';

/** Per-request limits beyond TF Serving's own rules. */
export interface PredictLimits {
  /** Most instances (rows) in one request. */
  readonly maxInstances: number;
  /** Most instances × k in one request (MAX_REQUEST_COST). */
  readonly maxRequestCost: number;
}

/** Gives the batched predictor of a loaded model (created once per model). */
export type PredictorFor = (model: ServingModel) => BatchedPredictor;

/** What predict needs from the server around it. */
export interface PredictContext {
  readonly slot: ModelSlot;
  readonly limits: PredictLimits;
  readonly predictorFor: PredictorFor;
  /** Told when a request is refused with 503 to shed load (queue full, or waited too long). */
  readonly onShed: (reason: ShedReason) => void;
  /** Retry-After (seconds) on those 503s; default 1. */
  readonly retryAfterSeconds?: number;
  /** Where degenerate answers are logged (one line each, counted by a log-based metric). */
  readonly logger: Logger;
  /**
   * Told of the instances of every answered predict (the replay sample,
   * replay/replay-sampler.ts), with the headers only to tell verify's
   * requests apart; absent when REPLAY_SAMPLE_SIZE is 0.
   */
  readonly onAnswered?: (instances: readonly Instance[], headers: RestRequest['headers']) => void;
}

/** Answers a predict request with its response body, or throws a TfStatusError. */
export async function handlePredict(
  route: RestRoute,
  request: RestRequest,
  context: PredictContext,
): Promise<string> {
  const { slot, limits, predictorFor } = context;
  const { signal, arrivedAt } = request;
  const document = parseRequestDocument(request.body);
  const signatureName = signatureNameOf(document);
  const model = servableFor(slot, route.model, route.choice);
  checkSignature(signatureName, route.api);
  const { format, tensors } = decodeInputs(document, model.signature.inputs);
  const k = requestedK(document, model.defaultK, model.maxK);
  const instances = toInstances(tensors, model.signature.inputs);
  if (instances.length > limits.maxInstances) {
    throw invalidArgument(
      `Request has ${instances.length} instances; at most ${limits.maxInstances} are accepted per request`,
    );
  }
  // Before any model work: one request must not hold the event loop (and every other request) for long.
  checkRequestCost(instances.length, k, limits.maxRequestCost);
  if (instances.length === 0) return predictResponseBody(format, []);
  throwIfAbandoned(signal, 'before_prepare');
  const prepared = prepare(model, instances);
  // Test-only (faults/test-faults.ts): off unless the bundle and the environment both ask.
  const fault = model.testFaults?.next(instances);
  let queuedFrom = arrivedAt;
  if (fault) {
    if (fault.delayMs > 0) await sleep(fault.delayMs);
    if (fault.fail) throw new TfStatusError('INTERNAL', INJECTED_FAULT_MESSAGE);
    // The injected delay stands for slow work, not for queueing.
    queuedFrom = performance.now();
  }
  let predictions;
  try {
    predictions = await predictorFor(model).predict(prepared, k, {
      ...(signal ? { signal } : {}),
      ...(queuedFrom === undefined ? {} : { arrivedAt: queuedFrom }),
    });
  } catch (error) {
    if (!(error instanceof QueueFullError || error instanceof OverloadedError)) throw error;
    context.onShed(error instanceof QueueFullError ? 'queue_full' : 'sojourn');
    throw new TfStatusError('UNAVAILABLE', error.message, context.retryAfterSeconds ?? 1);
  }
  throwIfAbandoned(signal, 'before_encode');
  const explicitK = document.get('k') === undefined ? undefined : k;
  logDegenerateAnswers(predictions, explicitK, model.name, context.logger);
  const body = predictResponseBody(format, predictions);
  context.onAnswered?.(instances, request.headers);
  return body;
}

function checkSignature(name: string, api: RestRoute['api']): void {
  if (name === INIT_OP_SIGNATURE) {
    throw invalidArgument(`Failed to get input map for signature: ${name}`);
  }
  if (name !== '' && name !== DEFAULT_SIGNATURE) {
    throw invalidArgument(`Serving signature name: "${name}" not found in signature def`);
  }
  if (api === 'classify' || api === 'regress') {
    const method = api === 'classify' ? 'classification' : 'regression';
    throw invalidArgument(
      `Expected ${method} signature method_name to be tensorflow/serving/${api}. Was: tensorflow/serving/predict`,
    );
  }
}

/** The model's preprocessing; its complaints are the client's mistake (400). */
function prepare(model: ServingModel, instances: readonly Instance[]): PreparedRequest {
  try {
    return model.prepare(instances);
  } catch (error) {
    if (isInputError(error)) throw invalidArgument(error.message);
    throw error;
  }
}

function isInputError(error: unknown): error is Error {
  return error instanceof Error && (error as { code?: unknown }).code === 'INPUT.INVALID';
}
