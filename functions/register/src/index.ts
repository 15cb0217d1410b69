/**
 * functions/register: the training-completed topic's handler. Thin by
 * design: configuration is read at cold start (a misconfigured deployment
 * fails to start and says why), adapters are created on the first event, and
 * the work is the register use case in shared/. It is registered as an HTTP
 * function that decodes the Eventarc CloudEvent itself (binary or structured
 * mode), so that a stray GET or a non-JSON body gets a short 405/415 and is
 * recorded, instead of the framework's 500 page with a stack trace
 * (shared/wiring/http-delivery-handler.ts). The registration overrides the
 * `--signature-type` the deployment passes.
 */
import * as functions from '@google-cloud/functions-framework';
import { handleTrainingCompleted } from '@recdeploy/shared/chain';
import { chainHttpHandler } from '@recdeploy/shared/chain-wiring';

/** The entry point name (`--entry-point`, `--target`). */
export const ENTRY_POINT = 'register';

functions.http(ENTRY_POINT, chainHttpHandler('register', handleTrainingCompleted));
