/**
 * `recdeploy deploy <run> [--allow-unblessed]`: deploys a registered run on
 * demand, through the same deploy and verify steps as any other run: one that
 * was skipped (not blessed, or superseded by a newer run), replaced, rolled
 * back, or failed after it was registered. The run records that an operator
 * asked for it (which exempts it from supersession); a run the Evaluator did
 * not bless needs --allow-unblessed. The model-registered message is
 * published on the local stack's bus, or with --project on Pub/Sub.
 *
 * Exit codes: 0 the deploy step starts; 1 not done (no such run, no local
 * stack running, the store or bus failed); 2 bad arguments; 3 refused by the
 * run's state (never registered, live, being deployed now, or not blessed
 * without --allow-unblessed): nothing was changed, the message says what fits.
 */
import type { Command } from 'commander';
import { deployOnDemand } from '@recdeploy/shared/chain';
import { addBackendOptions } from '../backend.js';
import type { CliIo } from '../cli-io.js';
import { runOperatorRequest, type OperatorFlags } from './operator-request.js';

interface DeployFlags extends OperatorFlags {
  allowUnblessed?: boolean;
}

/** Adds the command to `program`. */
export function registerDeploy(program: Command, io: CliIo): void {
  const command = program
    .command('deploy')
    .description(
      'deploy a registered run on demand (skipped, replaced, rolled back, or not blessed), through deploy and verify',
    )
    .argument('<run>', 'the run id, {model_endpoint_id}-{training_run_id}')
    .option('--allow-unblessed', 'deploy it even though the Evaluator did not bless it')
    .option(
      '--queue',
      'publish to the local bus even when no stack runs (delivered when one starts)',
    )
    .option('--json', 'print what was done as one JSON object');
  addBackendOptions(command, { firestore: true })
    .addHelpText(
      'after',
      `
Exit codes: 0 the deploy step starts; 1 not done (no such run, no local stack running, the store or
bus failed); 2 bad arguments; 3 refused by the run's state (never registered, live, being deployed,
or not blessed without --allow-unblessed): nothing changed, the message says what fits.

Verification still decides: a revision that fails it never takes traffic.
Follow the run afterwards with: recdeploy status <run> --watch`,
    )
    .action(async (runId: string, flags: DeployFlags) => {
      await runOperatorRequest(io, runId, flags, {
        command: 'deploy',
        send: (deps, requestedBy) =>
          deployOnDemand(deps, {
            runId,
            requestedBy,
            allowUnblessed: flags.allowUnblessed === true,
          }),
      });
    });
}
