/**
 * Ending a command with a usage error (exit code 2, as for a bad option):
 * the input the user gave cannot work, whatever the state of the system.
 * Failures of the command itself are thrown as plain errors (exit code 1).
 */
import { CommanderError } from 'commander';
import type { CliIo } from '../cli-io.js';

/** main.ts EXIT.usage: main turns every non-zero CommanderError into it. */
const USAGE_EXIT_CODE = 2;

/** Prints `recdeploy: {message}` on stderr and ends the command with exit code 2. */
export function usageError(io: CliIo, message: string): never {
  io.err(`recdeploy: ${message}`);
  throw new CommanderError(USAGE_EXIT_CODE, 'recdeploy.usage', message);
}
