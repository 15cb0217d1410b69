/**
 * `recdeploy promote <run>` and `recdeploy abort <run>`: an operator ends a
 * canary early. The request is recorded in the run's canary state
 * (requestCanary, shared/usecases/canary-requests.ts), and the next canary
 * tick carries it out: the running local stack's, or in the cloud the
 * reconcile function's, which this command wakes with one reconcile-tick
 * message instead of leaving it for the next minute. Then (unless
 * --no-wait) it polls the run until the canary ended, and prints the outcome
 * and what serves. The CLI never moves traffic itself: the tick that owns the
 * canary does, so a request and a tick never both move the same split.
 *
 * Exit codes: 0 recorded (carried out, or not yet: the output says who will);
 * 1 not done (no such run, the store failed); 2 bad arguments; 3 refused:
 * the run is not in a canary, or its canary is already ending or over.
 */
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import {
  PermanentError,
  type ErrorCode,
  type EventBus,
  type Logger,
  type RunDocument,
  type RunStore,
} from '@recdeploy/shared';
import { loadChainConfig, requestCanary, type ChainConfig } from '@recdeploy/shared/chain';
import { createAdapters } from '@recdeploy/shared/wiring';
import {
  addBackendOptions,
  cliLogger,
  describeRunStore,
  loadBackendConfig,
  openRunStore,
  whereLooked,
  type BackendFlags,
} from '../backend.js';
import type { CliIo } from '../cli-io.js';
import { integerIn } from '../option-parsers.js';
import { canaryActionReport, describeCanaryAction } from '../output/canary-outcome.js';
import { printJson } from '../output/json.js';
import { Refusal } from '../output/refusal.js';
import { runningStack } from '../stack/stack-state.js';
import { recordingBus, type PublishedMessage } from './published-messages.js';
import { requireRun } from './run-lookup.js';

type Action = 'promote' | 'abort';

interface CanaryActionFlags extends BackendFlags {
  /** False with --no-wait. */
  wait: boolean;
  waitS: number;
  json?: boolean;
}

/** The use case's refusals: the run's state rules the request out (exit code 3). */
const REFUSALS: readonly ErrorCode[] = ['RUN.NOT_CANARY', 'RUN.CANARY_ENDED', 'RUN.NOT_FOUND'];

const ABOUT: Record<Action, { summary: string; effect: string }> = {
  promote: {
    summary:
      "end a run's canary by promoting it now: its revision takes all the traffic, skipping the remaining steps",
    effect:
      'The canary revision takes 100% of its service, without judging its remaining steps; the run\nbecomes live and the run it replaces, replaced.',
  },
  abort: {
    summary: "end a run's canary by aborting it now: all traffic goes back to the stable revision",
    effect:
      'All traffic goes back to the stable revision (the one that served before the canary); the run\nends rolled_back with who aborted it and at which step.',
  },
};

export function registerPromote(program: Command, io: CliIo): void {
  registerCanaryAction(program, io, 'promote');
}

export function registerAbort(program: Command, io: CliIo): void {
  registerCanaryAction(program, io, 'abort');
}

function registerCanaryAction(program: Command, io: CliIo, action: Action): void {
  const command = program
    .command(action)
    .description(ABOUT[action].summary)
    .argument('<run>', 'the run id, {model_endpoint_id}-{training_run_id}, of a run in canary')
    .option('--no-wait', 'record the request and return, without waiting for the outcome')
    .option('--wait-s <seconds>', 'wait at most this long for the outcome', integerIn(1, 3_600), 60)
    .option('--json', 'print the request and its outcome as one JSON object');
  addBackendOptions(command, { firestore: true })
    .addHelpText(
      'after',
      `
${ABOUT[action].effect}

The request is recorded in the run (it survives this command and any crash), and the next canary
tick carries it out: the running local stack ticks every CANARY_TICK_S (5 s by default); in the
cloud the reconcile function does, and with --project this command publishes one message on the
reconcile-tick topic so that it runs now, not at its next minute. The command then waits (up to
--wait-s) and prints the outcome: the canary's result and reason, the run's status, and what the
service serves. If the wait ends first, the request stays recorded and is carried out all the same.

Exit codes: 0 recorded (carried out, or still to be: the output says by whom); 1 not done (no such
run, the store failed); 2 bad arguments; 3 refused: the run is not in a canary, or its canary is
already being promoted or aborted, or over. Nothing was changed then.

Follow the run afterwards with: recdeploy status <run> --watch`,
    )
    .action(async (runId: string, flags: CanaryActionFlags) => {
      await runCanaryAction(io, action, runId, flags);
    });
}

async function runCanaryAction(
  io: CliIo,
  action: Action,
  runId: string,
  flags: CanaryActionFlags,
): Promise<void> {
  const config = loadBackendConfig(io, flags, loadChainConfig);
  const logger = cliLogger(io);
  const backend = await openBackend(config, logger, runId, flags);
  try {
    const store = backend.store;
    await requireRun(store, runId, describeRunStore(config.runtime));
    const recorded = await requestCanary(
      { runStore: store, logger },
      { runId, action, requestedBy: operatorName(action) },
    ).catch((error: unknown) => {
      if (error instanceof PermanentError && REFUSALS.includes(error.code)) {
        throw new Refusal(error.message);
      }
      throw error;
    });
    const published =
      backend.bus === undefined
        ? []
        : await nudgeReconciler(backend.bus, config, { runId, action }, io);
    const carrier = canaryCarrier(config);
    let final = recorded;
    let waitedS: number | undefined;
    if (flags.wait && carrier.running && !canaryDone(recorded)) {
      io.err(`waiting up to ${flags.waitS} s: ${carrier.who}`);
      const started = Date.now();
      final = await waitForCanaryEnd(store, recorded, {
        timeoutMs: flags.waitS * 1_000,
        backend: config.runtime.backend,
      });
      waitedS = Math.round((Date.now() - started) / 1_000);
    }
    const service = final.serving?.service;
    const serving = service === undefined ? undefined : await store.getServingRecord(service);
    const context = {
      action,
      recorded,
      final,
      carriedOut: canaryDone(final),
      ...(waitedS === undefined ? {} : { waitedS }),
      carrier: carrier.who,
      published,
      where: config.runtime.backend === 'gcp' ? `Pub/Sub project ${config.runtime.projectId}` : '',
      ...(serving === undefined ? {} : { serving }),
    };
    if (flags.json) printJson(io, canaryActionReport(context));
    else for (const line of describeCanaryAction(context)) io.out(line);
    if (!context.carriedOut) io.err(`follow it with: recdeploy status ${runId} --watch`);
  } finally {
    await backend.close();
  }
}

/**
 * The run store, and in the cloud the bus for the reconcile-tick message.
 * Locally only the store: the local stack ticks on its own timer, and a
 * missing store means a wrong --data-dir (opening it would create an empty one).
 */
async function openBackend(
  config: ChainConfig,
  logger: Logger,
  runId: string,
  flags: BackendFlags,
): Promise<{ store: RunStore; bus?: EventBus; close(): Promise<void> }> {
  const runtime = config.runtime;
  if (runtime.backend === 'gcp') {
    const adapters = await createAdapters(runtime, logger);
    return { store: adapters.runStore, bus: adapters.eventBus, close: () => adapters.close() };
  }
  const store = await openRunStore(runtime, logger);
  if (store === undefined) {
    throw new Error(
      `run ${runId} not found: ${describeRunStore(runtime)} does not exist; ${whereLooked(flags)}`,
    );
  }
  return { store, close: () => store.close() };
}

/** Who asked, for the canary's request and outcome: "alice via recdeploy abort". */
function operatorName(command: string): string {
  let user = process.env.USER ?? 'someone';
  try {
    user = os.userInfo().username;
  } catch {
    // No passwd entry (some containers): keep $USER.
  }
  return `${user} via recdeploy ${command}`;
}

/** Who carries the request out. */
interface CanaryCarrier {
  /** False when nothing will do it before a local stack starts: then waiting is pointless. */
  readonly running: boolean;
  /** In words: "the local stack (pid 42) carries it out at its next canary tick (every 5 s)". */
  readonly who: string;
}

/** Polling the store: often locally (a file read), every 2 s on Firestore (each read is billed). */
const POLL_MS = { local: 250, gcp: 2_000 } as const;

function canaryCarrier(config: ChainConfig): CanaryCarrier {
  const runtime = config.runtime;
  if (runtime.backend === 'gcp') {
    return {
      running: true,
      who: `the reconcile function carries it out (at once for the reconcile-tick message sent here, else at its next scheduled tick, within a minute)`,
    };
  }
  const stack = runningStack(runtime.dataDir);
  if (stack === undefined) {
    return {
      running: false,
      who: `no local stack is running on ${path.resolve(runtime.dataDir)}: the stack carries it out at its first canary tick once started (npm start)`,
    };
  }
  return {
    running: true,
    who: `the local stack (pid ${stack.pid}) carries it out at its next canary tick (every ${config.canaryTickMs / 1_000} s)`,
  };
}

/**
 * In the cloud: one message on the reconcile-tick topic, so the reconcile
 * function runs a pass (and the canary's tick) now instead of at its next
 * minute. Its body means nothing to the function; the run id is there for
 * whoever reads the topic. A failed publish is only a delay: the request is
 * recorded, and Cloud Scheduler's tick comes within a minute.
 */
async function nudgeReconciler(
  bus: EventBus,
  config: ChainConfig,
  request: { readonly runId: string; readonly action: string },
  io: CliIo,
): Promise<PublishedMessage[]> {
  const recording = recordingBus(bus);
  try {
    await recording.bus.publish(config.runtime.topics.reconcileTick, {
      data: { tick: 'canary-request', run_id: request.runId, action: request.action },
      attributes: { run_id: request.runId },
    });
  } catch (error) {
    io.err(
      `warning: the ${request.action} is recorded, but the ${config.runtime.topics.reconcileTick} message could not be published (${error instanceof Error ? error.message : String(error)}): the reconcile function carries it out at its next scheduled tick, within a minute`,
    );
  }
  return recording.published;
}

/** True once the canary is over or the run left `canary`: nothing is left to carry out. */
function canaryDone(run: RunDocument): boolean {
  return (
    run.status !== 'canary' || run.canary?.phase === 'promoted' || run.canary?.phase === 'aborted'
  );
}

/** Reads the run until canaryDone or `timeoutMs` passed; answers the last version read. */
async function waitForCanaryEnd(
  store: RunStore,
  run: RunDocument,
  options: { readonly timeoutMs: number; readonly backend: 'local' | 'gcp' },
): Promise<RunDocument> {
  const deadline = Date.now() + options.timeoutMs;
  let latest = run;
  for (;;) {
    const left = deadline - Date.now();
    if (canaryDone(latest) || left <= 0) return latest;
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS[options.backend], left)));
    latest = (await store.getRun(run.runId)) ?? latest;
  }
}
