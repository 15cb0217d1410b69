/**
 * The recdeploy command line. Exit codes: 0 success (and --help/--version),
 * 1 the command failed, 2 usage error (unknown command or option, bad value),
 * 3 refused: the run's state rules out what was asked (nothing was done; the
 * message names the command that fits), 130 interrupted by Ctrl-C. Adding a
 * command is one line in command-modules.ts and its summary in
 * command-index.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { processIo, type CliIo } from './cli-io.js';
import { isMissingCredentials, reportMissingCredentials } from './cloud-credentials.js';
import { addCommandStandIns } from './command-index.js';
import { commandsFor } from './command-modules.js';
import { INTERRUPTED_EXIT_CODE, Interrupted } from './output/interrupted.js';
import { REFUSED_EXIT_CODE, Refusal } from './output/refusal.js';
import { runAsProcess } from './process-run.js';

/** Process exit codes. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  refused: REFUSED_EXIT_CODE,
  interrupted: INTERRUPTED_EXIT_CODE,
} as const;

/**
 * The program with the commands `args` needs registered (see commandsFor);
 * commander never exits the process itself.
 */
export async function buildProgram(io: CliIo, args: readonly string[] = []): Promise<Command> {
  const program = new Command('recdeploy')
    .description('Deploys recommender models automatically and safely once training ends.')
    .version(cliVersion(), '-v, --version')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (text) => io.out(text.trimEnd()),
      writeErr: (text) => io.err(text.trimEnd()),
    });
  const registrations = await commandsFor(args);
  if (registrations.length === 0) addCommandStandIns(program);
  for (const register of registrations) register(program, io);
  return program;
}

/** Runs the CLI with `argv` (node, script, ...args) and returns the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const program = await buildProgram(io, argv.slice(2));
  if (argv.length <= 2) {
    program.outputHelp({ error: true });
    return EXIT.usage;
  }
  try {
    await program.parseAsync([...argv]);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (isMissingCredentials(error)) {
      reportMissingCredentials(io);
      return EXIT.failure;
    }
    io.err(`recdeploy: ${error instanceof Error ? error.message : String(error)}`);
    if (error instanceof Refusal) return EXIT.refused;
    return error instanceof Interrupted ? EXIT.interrupted : EXIT.failure;
  }
}

/** The version in cli/package.json, found from src/ (sources) or dist/src/ (built). */
function cliVersion(): string {
  for (const candidate of ['../package.json', '../../package.json']) {
    const url = new URL(candidate, import.meta.url);
    if (!existsSync(url)) continue;
    const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === '@recdeploy/cli' && pkg.version) return pkg.version;
  }
  return 'unknown';
}

/**
 * Runs the CLI as this process (what cli/bin/recdeploy.js calls): process-wide
 * handling of a closed output pipe, missing cloud credentials and the exit code.
 */
export function runCli(argv: readonly string[] = process.argv): Promise<void> {
  return runAsProcess(() => main(argv, processIo));
}

// Run directly (`node --import tsx cli/src/main.ts …`) rather than through the launcher.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runCli();
}
