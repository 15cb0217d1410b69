/**
 * `recdeploy start` (and `npm start`): runs the whole program on this machine
 * (cli/src/stack/local-stack.ts), deploys the sample model, prints where it
 * answers, and keeps serving until Ctrl-C or SIGTERM, when every child
 * process stops. People's text goes to stderr (one line per phase, a spinner
 * on a terminal, a line per run that ends later); the JSON log lines to
 * `{dataDir}/logs/stack.log` (`recdeploy logs`); the endpoints to stdout (or
 * one JSON object with --json, printed once the sample run has ended).
 *
 * Stopping: one SIGINT or SIGTERM, however delivered (a terminal signals the
 * whole process group), stops everything once and prints "stopped"; another
 * one a second or more later, while the stop still runs, kills what remains
 * and prints "stopped (forced)". --backend gcp-emulated runs the cloud rehearsal instead (npm run rehearse): the gcloud
emulators must be installed (gcloud components install cloud-firestore-emulator
pubsub-emulator; Java 17); --bundle, --json and --exit-when-live apply, the other options do not.

Exit codes: 0 stopped while serving (or
 * --exit-when-live and the sample went live); 1 it could not start, or with
 * --exit-when-live the sample run did not go live; 2 bad arguments; 130/143
 * a SIGINT/SIGTERM stopped it before it was serving.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import { trafficPercent, type RunDocument } from '@recdeploy/shared';
import type { CliIo } from '../cli-io.js';
import { describeDataDir, resolveDataDir } from '../data-dir.js';
import { integerIn } from '../option-parsers.js';
import { createNarrator } from '../output/phase-narrator.js';
import { killWhatRemains } from '../stack/forced-stop.js';
import { runCloudRehearsal } from '../stack/cloud-rehearsal.js';
import { startLocalStack, type RunningStack } from '../stack/local-stack.js';
import {
  StopRequested,
  watchStopSignals,
  type StopSignal,
  type StopSignals,
} from '../stack/stop-signals.js';

interface StartFlags {
  backend: 'local' | 'gcp-emulated';
  bundle?: string;
  dataDir?: string;
  dashboardPort?: number;
  sample: boolean;
  products?: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  json?: boolean;
  exitWhenLive?: boolean;
}

/** 128 + the signal's number: what a shell reports for a program that signal ended. */
const SIGNAL_EXIT: Readonly<Record<StopSignal, number>> = { SIGINT: 130, SIGTERM: 143 };
/** If something still holds the event loop this long after "stopped", exit anyway. */
const EXIT_GRACE_MS = 2_000;

export function registerStart(program: Command, io: CliIo): void {
  program
    .command('start')
    .description(
      'run the local stack (functions, event bus, serving, dashboard) and deploy the sample model',
    )
    .option(
      '--data-dir <dir>',
      'where the stack keeps its state (default: $RECDEPLOY_DATA_DIR, else the nearest .recdeploy/ at or above the current directory, else ./.recdeploy)',
    )
    .option(
      '--dashboard-port <port>',
      'dashboard port (default: the port this data directory used last, else a fixed default; any free port when taken; 0: any free port)',
      integerIn(0, 65_535),
    )
    .option('--no-sample', 'start the stack without creating or deploying the sample model')
    .option(
      '--products <n>',
      'catalogue size of the sample model when it is created',
      integerIn(10, 1_000_000),
    )
    .addOption(
      new Option(
        '--log-level <level>',
        'lowest level written to the log file ({data dir}/logs/stack.log; see recdeploy logs)',
      )
        .choices(['debug', 'info', 'warn', 'error'])
        .default('info'),
    )
    .addOption(
      new Option(
        '--backend <backend>',
        'local: the embedded stack (SQLite, local bus); gcp-emulated: the cloud path rehearsed on this machine (RECDEPLOY_BACKEND=gcp against the gcloud Firestore and Pub/Sub emulators and stand-ins for Vertex AI, Cloud Storage and Cloud Run; from a checkout; same as npm run rehearse)',
      )
        .choices(['local', 'gcp-emulated'])
        .default('local'),
    )
    .option(
      '--bundle <dir>',
      'with --backend gcp-emulated: deploy this model bundle (a directory holding ann/) instead of training the sample',
    )
    .option('--json', 'print the endpoints as one JSON object')
    .option('--exit-when-live', 'stop the stack once the sample run has ended (for scripts and CI)')
    .addHelpText(
      'after',
      `
Stopping: Ctrl-C (SIGINT) or SIGTERM stops every part once and prints "stopped"; a second one,
a second or more later while the stop still runs, kills what remains ("stopped (forced)").

Exit codes: 0 stopped while serving (with --exit-when-live: the sample run went live); 1 the
stack could not start, or with --exit-when-live the sample run did not go live; 2 bad arguments;
130 (SIGINT) or 143 (SIGTERM) stopped before the stack was serving.`,
    )
    .action(async (flags: StartFlags, command: Command) => {
      if (flags.backend === 'gcp-emulated') {
        const local = localOnlyFlags(flags, command);
        if (local.length > 0) {
          command.error(`${local.join(', ')}: only with --backend local`, { exitCode: 2 });
        }
        process.exit(await runCloudRehearsal(flags));
      }
      if (flags.bundle !== undefined) {
        command.error('--bundle: only with --backend gcp-emulated', { exitCode: 2 });
      }
      const choice = resolveDataDir({ flag: flags.dataDir });
      // A spinner only on a terminal that has a width (ora loops on a 0-column pty) and is not CI.
      const tty =
        process.stderr.isTTY === true &&
        (process.stderr.columns ?? 0) > 0 &&
        process.env.TERM !== 'dumb' &&
        !process.env.CI;
      const narrator = createNarrator({ err: (line) => io.err(line), tty });
      let stack: RunningStack | undefined;
      let stopped = false;
      const signals: StopSignals = watchStopSignals({
        onInsist: () => {
          // Already stopped and about to exit: nothing is left to force.
          if (stopped) process.exit(exitCodeOf(stack, stopSignalOf(signals)));
          narrator.close();
          killWhatRemains(choice.dir);
          io.err('stopped (forced)');
          process.exit(exitCodeOf(stack, stopSignalOf(signals)));
        },
      });
      void signals.requested.then((signal) => {
        narrator.close();
        io.err(`${signal}: stopping: functions, event bus, revisions, routers, dashboard`);
      });
      narrator.line(describeDataDir(choice));
      try {
        stack = await startLocalStack({
          dataDir: choice.dir,
          narrator,
          noSample: !flags.sample,
          logLevel: flags.logLevel,
          signal: signals.signal,
          ...(flags.dashboardPort === undefined ? {} : { dashboardPort: flags.dashboardPort }),
          ...(flags.products === undefined ? {} : { products: flags.products }),
        });
      } catch (error) {
        // Whatever failed once a stop was asked for (the terminal's signal
        // also reached the dashboard while it started) is part of that stop;
        // startLocalStack has stopped what it had started.
        const signal = stopSignalOf(signals);
        if (signal === undefined) {
          signals.dispose();
          throw error;
        }
        io.err('stopped');
        process.exit(SIGNAL_EXIT[signal]);
      }
      if (!signals.signal.aborted) {
        await report(io, stack, flags);
        if (flags.exitWhenLive) {
          await stack.stop();
          signals.dispose();
          const ended = stack.sampleRun?.status;
          // Replaced or rolled back: it went live, and a later run or rollback took over.
          if (ended !== undefined && !['live', 'replaced', 'rolled_back'].includes(ended)) {
            throw new Error(`the sample run ended ${ended}`);
          }
          return;
        }
        io.err('serving; press Ctrl-C to stop');
      }
      await signals.requested;
      await stack.stop();
      stopped = true;
      io.err('stopped');
      // The stop closed everything; should a stray handle still hold the loop, do not hang.
      setTimeout(() => process.exit(0), EXIT_GRACE_MS).unref();
    });
}

/** The options given that only the local stack understands. */
function localOnlyFlags(flags: StartFlags, command: Command): string[] {
  const given = (name: string) => command.getOptionValueSource(name) === 'cli';
  return [
    ['dataDir', '--data-dir'],
    ['dashboardPort', '--dashboard-port'],
    ['sample', '--no-sample'],
    ['products', '--products'],
    ['logLevel', '--log-level'],
  ]
    .filter(([name]) => given(name!))
    .map(([, flag]) => flag!);
}

/** The signal that asked for the stop, if one did. */
function stopSignalOf(signals: StopSignals): StopSignal | undefined {
  const reason: unknown = signals.signal.reason;
  return signals.signal.aborted && reason instanceof StopRequested ? reason.signalName : undefined;
}

/** A stop while serving is the normal end (0); one during start-up interrupted it. */
function exitCodeOf(stack: RunningStack | undefined, signal: StopSignal | undefined): number {
  return stack === undefined && signal !== undefined ? SIGNAL_EXIT[signal] : 0;
}

/**
 * What serves, and where: read from the serving records (what the routers
 * serve), not from the sample run, which a later run may have replaced.
 */
async function report(io: CliIo, stack: RunningStack, flags: StartFlags): Promise<void> {
  const run = stack.sampleRun;
  const records = await stack.runStore.listServingRecords();
  const sampleService = run?.serving?.service;
  const record =
    records.find((r) => r.service === sampleService) ??
    (run === undefined ? records.find((r) => r.liveRunId !== undefined) : undefined);
  const servingRun =
    record?.liveRunId === undefined ? undefined : await stack.runStore.getRun(record.liveRunId);
  const predictUrl =
    record?.serviceUrl !== undefined && servingRun !== undefined
      ? `${record.serviceUrl}/v1/models/recommender:predict`
      : undefined;
  const example = servingRun ? firstExample(servingRun) : undefined;
  const curl =
    predictUrl && example
      ? `curl -s -d '${JSON.stringify({ instances: [example] })}' ${predictUrl}`
      : undefined;
  if (flags.json) {
    io.out(
      JSON.stringify({
        dataDir: stack.dataDir,
        dashboardUrl: stack.dashboardUrl,
        functions: stack.functionUrls,
        ...(run === undefined
          ? {}
          : { run: { runId: run.runId, status: run.status, reason: run.statusReason } }),
        serving: records.map((r) => ({
          service: r.service,
          revision: r.liveRevision,
          runId: r.liveRunId,
          trafficPercent: trafficPercent(r, r.liveRevision),
          since: r.since,
        })),
        ...(predictUrl === undefined ? {} : { predictUrl }),
        ...(curl === undefined ? {} : { curl }),
      }),
    );
    return;
  }
  const lines = [''];
  if (run !== undefined && run.status !== 'live' && run.runId !== servingRun?.runId) {
    lines.push(
      `The sample run ${run.runId} is ${run.status}: ${run.statusReason ?? 'see the dashboard'}`,
    );
  }
  for (const r of records) {
    if (r.liveRevision === undefined) {
      lines.push(`${r.service}: no revision serves (${r.cause})`);
      continue;
    }
    const since = r.since === undefined ? '' : ` since ${r.since}`;
    lines.push(
      `${r.service} serves revision ${r.liveRevision} of run ${r.liveRunId ?? '(not a recdeploy run)'} (${trafficPercent(r, r.liveRevision)}%${since}).`,
    );
  }
  if (predictUrl) lines.push(`  predict:   ${predictUrl}`);
  if (curl) lines.push(`  try:       ${curl}`);
  lines.push(`  dashboard: ${stack.dashboardUrl}`);
  for (const line of lines) io.out(line);
}

/** The first example instance of the run's bundle (file:// artifacts only). */
function firstExample(run: RunDocument): unknown {
  try {
    const dir = fileURLToPath(run.artifactUri);
    const examples = JSON.parse(
      fs.readFileSync(path.join(dir, 'ann', 'examples.json'), 'utf8'),
    ) as unknown[];
    return examples[0];
  } catch {
    return undefined;
  }
}
