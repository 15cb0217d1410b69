/**
 * The CLI as a process of its own (the bin launcher, or main.ts run directly),
 * as opposed to main() called in-process by tests: what only a whole process
 * may decide, around one run of a command.
 */
import { processIo } from './cli-io.js';
import {
  isMissingCredentials,
  reportMissingCredentials,
  silenceMetadataLookupWarning,
} from './cloud-credentials.js';

/** Exit code of a command that failed (main.ts EXIT.failure). */
const FAILURE_EXIT_CODE = 1;

/**
 * Runs the command `run` returns the exit code of (writing to processIo) and
 * sets that code as the process's exit code.
 */
export async function runAsProcess(
  run: () => Promise<number>,
  proc: NodeJS.Process = process,
): Promise<void> {
  endQuietlyWhenReaderLeaves(proc);
  silenceMetadataLookupWarning(proc);
  // google-gax leaves copies of a missing-credentials rejection unhandled, one
  // per attempt while its retries run (~10 s) before the command's own call
  // fails: the first one ends the command at once, with the line the command
  // would end with (written once, whoever comes first). Any other unhandled
  // rejection is still fatal, as by default.
  proc.on('unhandledRejection', (reason) => {
    if (!isMissingCredentials(reason)) throw reason;
    reportMissingCredentials(processIo);
    proc.exit(FAILURE_EXIT_CODE);
  });
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
