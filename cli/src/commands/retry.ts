/**
 * `recdeploy retry <run> [--artifact-uri URI]`: starts a failed run again at
 * the step that failed, as a new attempt of the same run (its history and
 * attempt counts go on), or hands on the step of a run that stopped moving
 * (no attempt holds it). With --artifact-uri, a run that failed in its
 * register step is retried with a corrected artifact (nothing was registered
 * from the old one). The request is recorded in the run, then the step's
 * message is published: on the local stack's bus, or with --project on Pub/Sub.
 *
 * Exit codes: 0 the step starts again; 1 not done (no such run, no local stack
 * running, the store or bus failed); 2 bad arguments (an artifact URI the
 * register step would refuse); 3 refused by the run's state (live, skipped,
 * replaced, rolled back, or an attempt is running now): nothing was changed,
 * the message names the command that fits.
 */
import type { Command } from 'commander';
import { parseTrainingCompletedV1 } from '@recdeploy/events';
import type { RunDocument } from '@recdeploy/shared';
import { retryRun, trainingCompletedOf } from '@recdeploy/shared/chain';
import { addBackendOptions } from '../backend.js';
import type { CliIo } from '../cli-io.js';
import { usageError } from '../output/usage-error.js';
import { runOperatorRequest, type OperatorFlags } from './operator-request.js';

interface RetryFlags extends OperatorFlags {
  artifactUri?: string;
}

/** Adds the command to `program`. */
export function registerRetry(program: Command, io: CliIo): void {
  const command = program
    .command('retry')
    .description(
      'start a failed run again at its failed step (or hand on the step of a run that stopped moving)',
    )
    .argument('<run>', 'the run id, {model_endpoint_id}-{training_run_id}')
    .option(
      '--artifact-uri <uri>',
      'a corrected artifact (gs:// or file://), for a run that failed in its register step',
    )
    .option(
      '--queue',
      'publish to the local bus even when no stack runs (delivered when one starts)',
    )
    .option('--json', 'print what was done as one JSON object');
  addBackendOptions(command, { firestore: true })
    .addHelpText(
      'after',
      `
Exit codes: 0 the step starts again; 1 not done (no such run, no local stack running, the store or
bus failed); 2 bad arguments; 3 refused by the run's state (it is live, skipped, replaced, rolled
back, or an attempt runs now): nothing changed, the message says which command fits.

Follow the run afterwards with: recdeploy status <run> --watch`,
    )
    .action(async (runId: string, flags: RetryFlags) => {
      const artifactUri = flags.artifactUri;
      await runOperatorRequest(io, runId, flags, {
        command: 'retry',
        ...(artifactUri === undefined
          ? {}
          : { check: (run) => checkArtifact(io, run, artifactUri) }),
        send: (deps, requestedBy) =>
          retryRun(deps, {
            runId,
            requestedBy,
            ...(artifactUri === undefined ? {} : { artifactUri }),
          }),
      });
    });
}

/**
 * The corrected artifact must be one the register step accepts: checked as
 * the run's own training-completed message with the new URI, so the CLI
 * refuses exactly what register would.
 */
function checkArtifact(io: CliIo, run: RunDocument, artifactUri: string): void {
  const parsed = parseTrainingCompletedV1({
    ...trainingCompletedOf(run),
    artifact_uri: artifactUri,
  });
  if (!parsed.ok) {
    usageError(io, `--artifact-uri ${artifactUri} would be refused: ${parsed.rejection.reason}`);
  }
}
