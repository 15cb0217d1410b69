/**
 * functions/deploy: the model-registered topic's CloudEvent handler; the
 * deploy use case in shared/ does the work (see functions/register for the shape).
 */
import * as functions from '@google-cloud/functions-framework';
import { handleModelRegistered } from '@recdeploy/shared/chain';
import { chainHandler } from '@recdeploy/shared/chain-wiring';

/** The entry point name (`--entry-point`, `--target`). */
export const ENTRY_POINT = 'deploy';

functions.cloudEvent(ENTRY_POINT, chainHandler('deploy', handleModelRegistered));
