/**
 * functions/verify: the model-deployed topic's handler (an HTTP
 * function decoding the CloudEvent itself, as functions/register explains); the verify
 * use case in shared/ does the work (see functions/register for the shape).
 */
import * as functions from '@google-cloud/functions-framework';
import { handleModelDeployed } from '@recdeploy/shared/chain';
import { chainHttpHandler } from '@recdeploy/shared/chain-wiring';

/** The entry point name (`--entry-point`, `--target`). */
export const ENTRY_POINT = 'verify';

functions.http(ENTRY_POINT, chainHttpHandler('verify', handleModelDeployed));
