/**
 * Which backend a command works on: the embedded files of a data directory
 * (the default, as the local stack keeps them; found the way git finds its
 * repository, data-dir.ts), or Google Cloud with `--project`. The flags become variables on top of the environment and go
 * through the same loaders as the deployables (loadRuntimeConfig,
 * loadChainConfig), so the CLI accepts exactly what they accept.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import {
  ConfigError,
  loadRuntimeConfig,
  type Env,
  type LogMeta,
  type Logger,
  type RunStore,
  type RuntimeConfig,
} from '@recdeploy/shared';
import { createRunStore, localDataFiles } from '@recdeploy/shared/wiring';
import type { CliIo } from './cli-io.js';
import { DATA_DIR_NAME, describeDataDir, resolveDataDir, type DataDirChoice } from './data-dir.js';
import { usageError } from './output/usage-error.js';

/** The backend flags as commander parses them. */
export interface BackendFlags {
  readonly dataDir?: string;
  readonly project?: string;
  readonly database?: string;
  readonly collection?: string;
  readonly region?: string;
}

/** Which of the optional backend flags a command offers besides --data-dir and --project. */
export interface BackendOptionSet {
  /** --database and --collection (commands that read or write run documents). */
  readonly firestore?: boolean;
  /** --region (commands that reach Cloud Run). */
  readonly region?: boolean;
}

/** Adds the backend flags to `command`. */
export function addBackendOptions(command: Command, set: BackendOptionSet = {}): Command {
  command
    .addOption(
      new Option(
        '--data-dir <dir>',
        `the local stack's data directory (default: $RECDEPLOY_DATA_DIR, else the nearest ${DATA_DIR_NAME}/ in the current directory or above it, else ./${DATA_DIR_NAME})`,
      ).conflicts('project'),
    )
    .option('--project <id>', 'work on this Google Cloud project instead of the local stack');
  if (set.firestore) {
    command
      .option('--database <id>', 'Firestore database, with --project (default: (default))')
      .option(
        '--collection <name>',
        'Firestore collection of runs, with --project (default: deployments)',
      );
  }
  if (set.region) {
    command.option('--region <region>', 'Cloud Run region, with --project (default: us-central1)');
  }
  return command;
}

/**
 * The environment the flags select: `env` with the flags' variables set over
 * it, and on the local backend the data directory resolved (resolveDataDir)
 * to an absolute path.
 */
export function backendEnv(flags: BackendFlags, env: Env = process.env, cwd?: string): Env {
  const set: Record<string, string> = {};
  if (flags.project !== undefined) {
    set.RECDEPLOY_BACKEND = 'gcp';
    set.GOOGLE_CLOUD_PROJECT = flags.project;
  }
  if (flags.dataDir !== undefined) set.RECDEPLOY_BACKEND = 'local';
  const choice = localDataDir(flags, env, cwd);
  if (choice !== undefined) set.RECDEPLOY_DATA_DIR = choice.dir;
  if (flags.database !== undefined) set.FIRESTORE_DATABASE = flags.database;
  if (flags.collection !== undefined) set.FIRESTORE_COLLECTION = flags.collection;
  if (flags.region !== undefined) set.REGION = flags.region;
  return { ...env, ...set };
}

/** The data directory the flags and `env` choose, or undefined when they choose the cloud. */
export function localDataDir(
  flags: BackendFlags,
  env: Env = process.env,
  cwd?: string,
): DataDirChoice | undefined {
  const cloud = flags.dataDir === undefined && (flags.project !== undefined || isGcp(env));
  if (cloud) return undefined;
  return resolveDataDir({ flag: flags.dataDir, env, ...(cwd === undefined ? {} : { cwd }) });
}

/**
 * For a message about a local file that does not exist: where the command
 * looked and how to point it elsewhere.
 */
export function whereLooked(flags: BackendFlags, env: Env = process.env): string {
  const choice = localDataDir(flags, env);
  const looked = choice === undefined ? '' : `${describeDataDir(choice)}; `;
  return `${looked}point to another with --data-dir <dir> or RECDEPLOY_DATA_DIR`;
}

function isGcp(env: Env): boolean {
  return env.RECDEPLOY_BACKEND === 'gcp';
}

/**
 * Loads a configuration with `load` from the flags' environment. A bad value
 * (an invalid project id, say) or a Firestore flag without --project is a
 * usage error: exit code 2 with every problem listed. A data directory found
 * above the current directory is named in one line on stderr, so nobody
 * wonders which stack a command read.
 */
export function loadBackendConfig<T extends RuntimeConfig | { readonly runtime: RuntimeConfig }>(
  io: CliIo,
  flags: BackendFlags,
  load: (env: Env) => T,
  env: Env = process.env,
): T {
  let config: T;
  try {
    config = load(backendEnv(flags, env));
  } catch (error) {
    if (error instanceof ConfigError) usageError(io, describeProblems(error.problems, flags));
    throw error;
  }
  const loaded: RuntimeConfig | { readonly runtime: RuntimeConfig } = config;
  const runtime = 'runtime' in loaded ? loaded.runtime : loaded;
  if (runtime.backend !== 'local') return config;
  if (flags.database !== undefined || flags.collection !== undefined) {
    usageError(io, '--database and --collection choose a Firestore location: add --project <id>');
  }
  const choice = localDataDir(flags, env);
  if (choice?.origin === 'found') io.err(describeDataDir(choice));
  return config;
}

/** The shared runtime configuration the flags select. */
export function runtimeConfig(
  io: CliIo,
  flags: BackendFlags,
  env: Env = process.env,
): RuntimeConfig {
  return loadBackendConfig(io, flags, loadRuntimeConfig, env);
}

/** Where runs are kept, for messages: a file, or a Firestore collection. */
export function describeRunStore(config: RuntimeConfig): string {
  return config.backend === 'local'
    ? path.resolve(localDataFiles(config.dataDir).runStore)
    : `Firestore ${config.projectId}/${config.firestoreDatabase}/${config.collection}`;
}

/**
 * The run store to read, or undefined when the local one does not exist yet
 * (a reading command must not create an empty store in the wrong directory).
 */
export async function openRunStore(
  config: RuntimeConfig,
  logger: Logger,
): Promise<RunStore | undefined> {
  if (config.backend === 'local' && !fs.existsSync(localDataFiles(config.dataDir).runStore)) {
    return undefined;
  }
  return createRunStore(config, logger);
}

/**
 * The adapters' logger on a terminal: warnings and errors on stderr as one
 * line each ("warning: …"), debug and info dropped (the commands print their
 * own progress), never on stdout.
 */
export function cliLogger(io: CliIo): Logger {
  const write = (level: string) => (message: string, meta?: LogMeta) =>
    io.err(`${level}: ${message}${describeMeta(meta)}`);
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: write('warning'),
    error: write('error'),
    child: () => logger,
  };
  return logger;
}

/**
 * The checkout the CLI runs from (it holds services/ann-serving, which the
 * local serving platform starts for a revision), or undefined in an install
 * without it.
 */
export function findRepoRoot(from: string = fileURLToPath(import.meta.url)): string | undefined {
  let dir = path.dirname(from);
  for (;;) {
    if (fs.existsSync(path.join(dir, 'services', 'ann-serving', 'package.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** The variable each flag sets, so a problem can name the flag the user typed. */
const FLAG_VARIABLES: readonly (readonly [keyof BackendFlags, string, string])[] = [
  ['project', '--project', 'GOOGLE_CLOUD_PROJECT'],
  ['dataDir', '--data-dir', 'RECDEPLOY_DATA_DIR'],
  ['database', '--database', 'FIRESTORE_DATABASE'],
  ['collection', '--collection', 'FIRESTORE_COLLECTION'],
  ['region', '--region', 'REGION'],
];

/** "invalid configuration:" and one line per problem, each naming the flag behind it if any. */
export function describeProblems(problems: readonly string[], flags: BackendFlags): string {
  const lines = problems.map((problem) => {
    const set = FLAG_VARIABLES.find(
      ([key, , variable]) => flags[key] !== undefined && problem.startsWith(variable),
    );
    return set === undefined ? problem : `${set[1]}: ${problem}`;
  });
  return `invalid configuration:\n  - ${lines.join('\n  - ')}`;
}

function describeMeta(meta: LogMeta | undefined): string {
  if (meta === undefined) return '';
  const parts = Object.entries(meta).map(([key, value]) => {
    const text = value instanceof Error ? value.message : JSON.stringify(value);
    return `${key}=${text}`;
  });
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}
