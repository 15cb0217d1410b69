/**
 * functions/verify: the model-deployed topic's CloudEvent handler; the verify
 * use case in shared/ does the work (see functions/register for the shape).
 */
import * as functions from '@google-cloud/functions-framework';
import { handleModelDeployed } from '@recdeploy/shared/chain';
import { chainHandler } from '@recdeploy/shared/chain-wiring';

/** The entry point name (`--entry-point`, `--target`). */
export const ENTRY_POINT = 'verify';

functions.cloudEvent(ENTRY_POINT, chainHandler('verify', handleModelDeployed));
