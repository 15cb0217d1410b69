/**
 * Ending a command because the user pressed Ctrl-C (SIGINT): exit code 130,
 * 128 + the signal's number, the code a shell gives a program the signal
 * ended, so a script (`recdeploy status … --watch && next`) tells "stopped by
 * hand" from "the run failed" (1). The command has already shown what it had.
 */

/** main.ts EXIT.interrupted. */
export const INTERRUPTED_EXIT_CODE = 130;

export class Interrupted extends Error {
  readonly exitCode = INTERRUPTED_EXIT_CODE;

  constructor(message: string) {
    super(message);
    this.name = 'Interrupted';
  }
}
