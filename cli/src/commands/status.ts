/**
 * `recdeploy status <run> [--watch]`: one run in detail (steps with
 * durations, attempts and errors; serving, with whether its revision serves
 * and its share from the service's serving record; verification checks; a
 * canary step by step, output/canary-steps.ts), as text or, with --json, as
 * the run document. --watch prints each change on stderr until the run ends
 * (a canary ends live or rolled_back), then the run as without --watch.
 *
 * Exit codes: 0 the run was shown (with --watch: it went live); 1 no such run,
 * or with --watch the run ended failed, skipped, rolled back or replaced, or
 * --timeout passed first; 2 bad arguments; 130 Ctrl-C stopped the watch
 * (output/interrupted.ts).
 */
import type { Command } from 'commander';
import type { RunDocument, RunStatus, RunStore } from '@recdeploy/shared';
import {
  addBackendOptions,
  cliLogger,
  describeRunStore,
  openRunStore,
  runtimeConfig,
  whereLooked,
  type BackendFlags,
} from '../backend.js';
import type { CliIo } from '../cli-io.js';
import { integerIn } from '../option-parsers.js';
import { stdoutPaint } from '../output/colour.js';
import {
  addOutputOptions,
  outputFormat,
  printDocument,
  type OutputFlags,
} from '../output/output-format.js';
import { Interrupted } from '../output/interrupted.js';
import { describeRun } from '../output/run-details.js';
import { describeProgress } from '../output/run-progress.js';
import { notFoundHint as hint } from './run-lookup.js';

/** Where a watch stops: the run has nothing more to do on its own. */
export const WATCH_ENDS: readonly RunStatus[] = [
  'live',
  'failed',
  'skipped',
  'rolled_back',
  'replaced',
];

interface StatusFlags extends BackendFlags, OutputFlags {
  watch?: boolean;
  timeout?: number;
}

/** How a watch ended. */
export type WatchOutcome =
  | { readonly kind: 'ended'; readonly run: RunDocument }
  /**
   * Stopped early; `run` is undefined when the run never appeared;
   * `interrupted` when the stop was Ctrl-C (an Interrupted abort reason).
   */
  | {
      readonly kind: 'stopped';
      readonly run?: RunDocument;
      readonly why: string;
      readonly interrupted?: boolean;
    };

/** Adds the command to `program`. */
export function registerStatus(program: Command, io: CliIo): void {
  const command = program
    .command('status')
    .description('show one run in detail; --watch follows it until it ends')
    .argument('<run>', 'the run id, {model_endpoint_id}-{training_run_id}')
    .option(
      '--watch',
      'print each change until the run is live, failed, skipped, rolled back or replaced',
    )
    .option(
      '--timeout <seconds>',
      'with --watch: stop waiting after this long',
      integerIn(1, 86_400),
    );
  addOutputOptions(command, 'the run document');
  addBackendOptions(command, { firestore: true })
    .addHelpText(
      'after',
      `
Exit codes: 0 shown (with --watch: the run went live); 1 no such run, or with --watch the run
ended failed, skipped, rolled back or replaced, or --timeout passed first; 2 bad arguments;
130 Ctrl-C stopped the watch (the run as it stands is printed first).`,
    )
    .action(async (runId: string, flags: StatusFlags) => {
      const config = runtimeConfig(io, flags);
      const store = await openRunStore(config, cliLogger(io));
      if (store === undefined) {
        throw new Error(
          `run ${runId} not found: ${describeRunStore(config)} does not exist; ${whereLooked(flags)}`,
        );
      }
      try {
        const run = await store.getRun(runId);
        if (!flags.watch) {
          if (run === undefined) {
            throw new Error(
              `run ${runId} not found in ${describeRunStore(config)}${await hint(store, runId)}`,
            );
          }
          return await show(io, store, run, flags);
        }
        if (run === undefined) {
          // Just published: the register step creates the run a moment later.
          io.err(`run ${runId} does not exist yet; waiting for it${await hint(store, runId)}`);
        }
        const outcome = await watchUntilSignal(store, runId, io, flags.timeout);
        if (outcome.run !== undefined) await show(io, store, outcome.run, flags);
        if (outcome.kind === 'stopped') {
          const message = `${outcome.why}: run ${runId} ${outcome.run === undefined ? 'never appeared' : `is still ${outcome.run.status}`}`;
          throw outcome.interrupted ? new Interrupted(message) : new Error(message);
        }
        if (outcome.run.status !== 'live') {
          const reason = outcome.run.statusReason;
          throw new Error(`run ${runId} ended ${outcome.run.status}${reason ? `: ${reason}` : ''}`);
        }
      } finally {
        await store.close();
      }
    });
}

/** The run as text (with its service's serving record), or its document with -o json|yaml. */
async function show(
  io: CliIo,
  store: RunStore,
  run: RunDocument,
  flags: StatusFlags,
): Promise<void> {
  const format = outputFormat(flags);
  if (format !== 'table') return printDocument(io, format, run);
  const service = run.serving?.service;
  const record = service === undefined ? undefined : await store.getServingRecord(service);
  for (const line of describeRun(run, new Date(), record, stdoutPaint(io))) io.out(line);
}

/** Follows the run until it ends, printing changes on stderr; Ctrl-C or the timeout stop it early. */
async function watchUntilSignal(
  store: RunStore,
  runId: string,
  io: CliIo,
  timeoutSeconds: number | undefined,
): Promise<WatchOutcome> {
  const abort = new AbortController();
  const onSignal = () => abort.abort(new Interrupted('interrupted'));
  process.on('SIGINT', onSignal);
  // The store's change feed does not hold the process open (its timer is
  // unref'd); a watching command must, until the watch ends.
  const keepAlive = setInterval(() => undefined, 60_000);
  const timer =
    timeoutSeconds === undefined
      ? undefined
      : setTimeout(
          () => abort.abort(new Error(`no end within ${timeoutSeconds} s`)),
          timeoutSeconds * 1_000,
        );
  try {
    return await watchRun(store, runId, {
      signal: abort.signal,
      onChange: (lines) => {
        const time = new Date().toTimeString().slice(0, 8);
        for (const line of lines) io.err(`${time}  ${line}`);
      },
    });
  } finally {
    process.off('SIGINT', onSignal);
    clearInterval(keepAlive);
    clearTimeout(timer);
  }
}

/**
 * Resolves when the run reaches one of WATCH_ENDS (waiting for it to appear
 * if it does not exist yet), or when `signal` aborts (its reason says why).
 * The feed is subscribed before the first read, so no change in between is
 * missed.
 */
export function watchRun(
  store: RunStore,
  runId: string,
  options: { readonly signal: AbortSignal; readonly onChange: (lines: string[]) => void },
): Promise<WatchOutcome> {
  return new Promise<WatchOutcome>((resolve, reject) => {
    let latest: RunDocument | undefined;
    let settled = false;
    const finish = (outcome: WatchOutcome | Error) => {
      if (settled) return;
      settled = true;
      unsubscribe();
      options.signal.removeEventListener('abort', onAbort);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const see = (run: RunDocument) => {
      // The first read and the feed may race: never step back to an older version.
      if (latest !== undefined && run.updatedAt < latest.updatedAt) return;
      const lines = describeProgress(latest, run, new Date());
      latest = run;
      if (lines.length > 0) options.onChange(lines);
      if (WATCH_ENDS.includes(run.status)) finish({ kind: 'ended', run });
    };
    const onAbort = () => {
      const reason: unknown = options.signal.reason;
      const why = reason instanceof Error ? reason.message : 'stopped';
      const interrupted = reason instanceof Interrupted;
      finish({
        kind: 'stopped',
        why,
        ...(latest === undefined ? {} : { run: latest }),
        ...(interrupted ? { interrupted } : {}),
      });
    };
    const unsubscribe = store.watch(({ run }) => {
      if (run.runId === runId) see(run);
    });
    options.signal.addEventListener('abort', onAbort);
    if (options.signal.aborted) return onAbort();
    store.getRun(runId).then(
      (run) => {
        if (run !== undefined) see(run);
      },
      (error: unknown) => finish(error instanceof Error ? error : new Error(String(error))),
    );
  });
}
