/**
 * Ending a command with a refusal (exit code 3): the run's state rules out
 * what was asked, so nothing was changed or published, and the message says
 * which command fits instead. Kept apart from exit code 1 (the command tried
 * and failed: no stack, store unreachable, no such run) so a script can tell
 * "ask differently" from "try again later".
 */

/** main.ts EXIT.refused. */
export const REFUSED_EXIT_CODE = 3;

export class Refusal extends Error {
  readonly exitCode = REFUSED_EXIT_CODE;

  constructor(message: string) {
    super(message);
    this.name = 'Refusal';
  }
}
