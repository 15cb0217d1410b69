/**
 * The CLI as a process of its own (the bin launcher, or main.ts run directly),
 * as opposed to main() called in-process by tests: what only a whole process
 * may decide, around one run of a command.
 */
import { isMissingCredentials, silenceMetadataLookupWarning } from './cloud-credentials.js';

/** Runs the command `run` returns the exit code of, and sets it as the process's exit code. */
export async function runAsProcess(
  run: () => Promise<number>,
  proc: NodeJS.Process = process,
): Promise<void> {
  endQuietlyWhenReaderLeaves(proc);
  silenceMetadataLookupWarning(proc);
  leaveMissingCredentialsToTheCommand(proc);
  proc.exitCode = await run();
}

/**
 * A reader that went away (`recdeploy runs | head -1`) ends the output, not
 * the command with a stack trace: the first failed write exits at once with
 * the exit code so far (0 unless set), before the lines after it fail too.
 */
function endQuietlyWhenReaderLeaves(proc: NodeJS.Process): void {
  for (const stream of [proc.stdout, proc.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      proc.exit(proc.exitCode ?? 0);
    });
  }
}

/**
 * google-gax leaves copies of a missing-credentials rejection unhandled, which
 * would end the process with a stack trace before the command reports the
 * same error (it awaits the call that rejects with it) in one line. Any other
 * unhandled rejection is still fatal, as by default.
 */
function leaveMissingCredentialsToTheCommand(proc: NodeJS.Process): void {
  proc.on('unhandledRejection', (reason) => {
    if (isMissingCredentials(reason)) return;
    throw reason;
  });
}
