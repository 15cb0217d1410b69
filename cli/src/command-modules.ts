/**
 * Every recdeploy command, in the order --help lists them, with the module
 * that registers it. A module is imported only when its command runs (or for
 * help, when all are): `recdeploy runs` does not load the local stack, the
 * spinner or the model trainer, which roughly halves its start-up (the
 * commands' module graphs are most of a command's ~0.3 s).
 * Adding a command is one line here.
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
 * The registrations `args` (what follows `recdeploy`) needs: its command's
 * alone when it starts with a command name, else every one (help, --version,
 * an unknown command and its suggestions).
 */
export function commandsFor(args: readonly string[]): Promise<RegisterCommand[]> {
  const only = args[0] === undefined ? undefined : COMMAND_MODULES.get(args[0]);
  const loaders = only === undefined ? [...COMMAND_MODULES.values()] : [only];
  return Promise.all(loaders.map((load) => load()));
}
