/**
 * `recdeploy rollback <service> [--to <revision>]`: sends the service's
 * traffic back to an earlier revision and records what the platform then
 * serves in the service's serving record: the run that was live becomes
 * rolled_back (or replaced, when the target's run is newer), the target's run
 * is live again, and deployment-finished announces both
 * (shared/usecases/rollback-service.ts).
 *
 * Locally the platform is the data directory's serving.db: the running
 * stack's router reads it on every request, so it follows at once. A
 * revision process this command started would end with it, so rolling back to
 * a stopped revision while a stack runs is refused with what to do instead.
 *
 * Exit codes: 0 rolled back; 1 not rolled back (unknown service, no live run,
 * nothing to roll back to, a deployment in progress); 2 bad arguments.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import {
  PermanentError,
  type Logger,
  type ServiceTraffic,
  type ServingPlatform,
} from '@recdeploy/shared';
import {
  loadChainConfig,
  rollbackService,
  type ChainConfig,
  type RollbackResult,
} from '@recdeploy/shared/chain';
import { createAdapters, localDataFiles } from '@recdeploy/shared/wiring';
import {
  addBackendOptions,
  cliLogger,
  findRepoRoot,
  loadBackendConfig,
  whereLooked,
  type BackendFlags,
} from '../backend.js';
import type { CliIo } from '../cli-io.js';
import { printJson } from '../output/json.js';
import { describeRollback, rollbackReport } from '../output/rollback-outcome.js';
import { runningStack, type StackState } from '../stack/stack-state.js';
import { recordingBus } from './published-messages.js';

interface RollbackFlags extends BackendFlags {
  to?: string;
  json?: boolean;
}

/** The platform and what the command says about it afterwards. */
interface Platform {
  readonly platform: ServingPlatform;
  /** Lines for stderr once the rollback is done. */
  readonly notes: (result: RollbackResult) => string[];
}

/** Adds the command to `program`. */
export function registerRollback(program: Command, io: CliIo): void {
  const command = program
    .command('rollback')
    .description(
      "send a service's traffic back to an earlier revision; its live run becomes rolled_back (or replaced), the target's run live",
    )
    .argument(
      '<service>',
      'the serving service, {SERVICE_PREFIX}{model_endpoint_id} (e.g. rec-home)',
    )
    .option(
      '--to <revision>',
      'revision to roll back to (default: the revision that served before the current one)',
    )
    .option('--json', 'print what was done as one JSON object');
  addBackendOptions(command, { firestore: true, region: true })
    .addHelpText(
      'after',
      '\nExit codes: 0 rolled back; 1 not rolled back (the message says why); 2 bad arguments.',
    )
    .action(async (service: string, flags: RollbackFlags) => {
      const config = loadBackendConfig(io, flags, loadChainConfig);
      const logger = cliLogger(io);
      if (config.runtime.backend === 'local') requireLocalState(config.runtime.dataDir, flags);
      const adapters = await createAdapters(config.runtime, logger);
      const recording = recordingBus(adapters.eventBus);
      try {
        const { platform, notes } = await openPlatform(config, logger, io);
        try {
          const result = await rollbackService(
            { runStore: adapters.runStore, eventBus: recording.bus, platform, config, logger },
            { service, ...(flags.to === undefined ? {} : { toRevision: flags.to }) },
          );
          if (flags.json) printJson(io, rollbackReport(result, recording.published));
          else for (const line of describeRollback(result, recording.published)) io.out(line);
          for (const line of notes(result)) io.err(line);
        } finally {
          await platform.close();
        }
      } finally {
        await adapters.close();
      }
    });
}

/** The local files a rollback needs; without them nothing was ever deployed here. */
function requireLocalState(dataDir: string, flags: BackendFlags): void {
  const files = [path.join(dataDir, 'serving.db'), localDataFiles(dataDir).runStore];
  const missing = files.filter((file) => !fs.existsSync(file));
  if (missing.length > 0) {
    throw new Error(
      `nothing has been deployed with the data directory ${path.resolve(dataDir)}: ${missing.map((f) => path.resolve(f)).join(' and ')} ${missing.length === 1 ? 'does' : 'do'} not exist; ${whereLooked(flags)}`,
    );
  }
}

async function openPlatform(config: ChainConfig, logger: Logger, io: CliIo): Promise<Platform> {
  const runtime = config.runtime;
  if (runtime.backend === 'gcp') {
    const { CloudRunPlatform } = await import('@recdeploy/shared/gcp');
    const platform = new CloudRunPlatform({
      projectId: runtime.projectId,
      region: runtime.region,
      logger,
      ...(config.servingServiceAccount === undefined
        ? {}
        : { serviceAccount: config.servingServiceAccount }),
    });
    return { platform, notes: () => [] };
  }
  const dataDir = runtime.dataDir;
  const { LocalProcessPlatform, defaultServingCommand } = await import('@recdeploy/shared/local');
  const local = new LocalProcessPlatform({
    file: path.join(dataDir, 'serving.db'),
    logsDir: path.join(dataDir, 'logs'),
    logger,
    servingCommand: defaultServingCommand(findRepoRoot() ?? process.cwd()),
  });
  const stack = runningStack(dataDir);
  let startedHere = false;
  const platform: ServingPlatform = {
    deployRevision: (spec) => local.deployRevision(spec),
    promote: (service, revision) => local.promote(service, revision),
    splitTraffic: (service, split) => local.splitTraffic(service, split),
    discardRevision: (service, revision) => local.discardRevision(service, revision),
    describe: (service) => local.describe(service),
    close: () => local.close(),
    rollback: async (service, toRevision): Promise<ServiceTraffic> => {
      const target = local
        .listRevisions(service)
        .find((revision) => revision.revision === toRevision);
      if (target !== undefined && !(target.running && target.state === 'ready')) {
        if (stack !== undefined)
          throw stoppedWhileStackRuns(service, target.revision, target.state, stack);
        startedHere = true;
        io.err(
          `revision ${target.revision} is not running: starting it to check that it serves (log: ${target.logFile})`,
        );
      }
      return local.rollback(service, toRevision);
    },
  };
  const notes = (result: RollbackResult): string[] => {
    if (stack !== undefined) {
      return [
        `the local stack (pid ${stack.pid}) serves revision ${result.toRevision} at ${result.traffic.serviceUrl} from now on`,
      ];
    }
    return [
      `no local stack is running on ${path.resolve(dataDir)}: service ${result.service} serves revision ${result.toRevision} at ${result.traffic.serviceUrl} once it starts (npm start)${startedHere ? '; the process started for the check stops with this command' : ''}`,
    ];
  };
  return { platform, notes };
}

function stoppedWhileStackRuns(
  service: string,
  revision: string,
  state: string,
  stack: StackState,
): PermanentError {
  return new PermanentError(
    'PLATFORM.REJECTED',
    `revision ${revision} of service ${service} is not running (${state}), and a process this command started would stop when it exits while the stack (pid ${stack.pid}) routed traffic to it. Stop the stack (Ctrl-C), run this rollback again, then start the stack (npm start): it starts the revision that is live`,
    { metadata: { service, revision } },
  );
}
