/**
 * Every recdeploy command, in the order --help lists them, with the module
 * that registers it. A module is imported only when its command runs (the
 * list in --help comes from command-index.ts): `recdeploy runs` does not
 * load the local stack, the spinner or the model trainer, which roughly
 * halves its start-up (the commands' module graphs are most of a command's
 * ~0.3 s). Adding a command is one line here and its summary in
 * command-index.ts.
 */
import type { Command } from 'commander';
import type { CliIo } from './cli-io.js';

/** Adds one command (its options, help and action) to the program. */
export type RegisterCommand = (program: Command, io: CliIo) => void;

export const COMMAND_MODULES: ReadonlyMap<string, () => Promise<RegisterCommand>> = new Map([
  ['start', async () => (await import('./commands/start.js')).registerStart],
  ['publish', async () => (await import('./commands/publish.js')).registerPublish],
  ['runs', async () => (await import('./commands/runs.js')).registerRuns],
  ['status', async () => (await import('./commands/status.js')).registerStatus],
  ['logs', async () => (await import('./commands/logs.js')).registerLogs],
  ['rollback', async () => (await import('./commands/rollback.js')).registerRollback],
  ['retry', async () => (await import('./commands/retry.js')).registerRetry],
  ['deploy', async () => (await import('./commands/deploy.js')).registerDeploy],
  ['promote', async () => (await import('./commands/canary-action.js')).registerPromote],
  ['abort', async () => (await import('./commands/canary-action.js')).registerAbort],
  ['sample-model', async () => (await import('./commands/sample-model.js')).registerSampleModel],
  ['build-index', async () => (await import('./commands/build-index.js')).registerBuildIndex],
]);

/**
 * The registrations `args` (what follows `recdeploy`) needs: the command it
 * names (its first word that is no option; `help <command>` names that
 * command) alone, or none when it names no command: then main.ts lists the
 * commands from command-index.ts (help, --version, an unknown command and
 * its suggestions) without loading any.
 */
export function commandsFor(args: readonly string[]): Promise<RegisterCommand[]> {
  const words = args.filter((arg) => !arg.startsWith('-'));
  const named = words[0] === 'help' ? words[1] : words[0];
  const only = named === undefined ? undefined : COMMAND_MODULES.get(named);
  return Promise.all(only === undefined ? [] : [only()]);
}

/** Every command's registration (tests compare them with command-index.ts). */
export function allCommands(): Promise<RegisterCommand[]> {
  return Promise.all([...COMMAND_MODULES.values()].map((load) => load()));
}
