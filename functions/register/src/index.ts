/**
 * functions/register: the training-completed topic's CloudEvent handler.
 * Thin by design: configuration is read at cold start (a misconfigured
 * deployment fails to start and says why), adapters are created on the first
 * event, and the work is the register use case in shared/.
 */
import * as functions from '@google-cloud/functions-framework';
import { handleTrainingCompleted } from '@recdeploy/shared/chain';
import { chainHandler } from '@recdeploy/shared/chain-wiring';

/** The entry point name (`--entry-point`, `--target`). */
export const ENTRY_POINT = 'register';

functions.cloudEvent(ENTRY_POINT, chainHandler('register', handleTrainingCompleted));
