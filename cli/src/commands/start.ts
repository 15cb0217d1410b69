/**
 * `recdeploy start` (and `npm start`): runs the whole program on this machine
 * (cli/src/stack/local-stack.ts), deploys the sample model, prints where it
 * answers, and keeps serving until Ctrl-C, when every child process stops.
 * Progress goes to stderr; the endpoints to stdout (or one JSON object with
 * --json, printed once the sample run has ended).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
import type { RunDocument } from '@recdeploy/shared';
import type { CliIo } from '../cli-io.js';
import { integerIn } from '../option-parsers.js';
import { startLocalStack, type RunningStack } from '../stack/local-stack.js';

interface StartFlags {
  dataDir: string;
  dashboardPort: number;
  sample: boolean;
  products?: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  json?: boolean;
  exitWhenLive?: boolean;
}

export function registerStart(program: Command, io: CliIo): void {
  program
    .command('start')
    .description(
      'run the local stack (functions, event bus, serving, dashboard) and deploy the sample model',
    )
    .option(
      '--data-dir <dir>',
      'where the stack keeps its state (RECDEPLOY_DATA_DIR)',
      process.env.RECDEPLOY_DATA_DIR ?? '.recdeploy',
    )
    .option('--dashboard-port <port>', 'dashboard port (0: any free port)', integerIn(0, 65_535), 0)
    .option('--no-sample', 'start the stack without creating or deploying the sample model')
    .option(
      '--products <n>',
      'catalogue size of the sample model when it is created',
      integerIn(10, 1_000_000),
    )
    .addOption(
      new Option('--log-level <level>', 'log level of the functions and adapters')
        .choices(['debug', 'info', 'warn', 'error'])
        .default('warn'),
    )
    .option('--json', 'print the endpoints as one JSON object')
    .option('--exit-when-live', 'stop the stack once the sample run has ended (for scripts and CI)')
    .action(async (flags: StartFlags) => {
      const stack = await startLocalStack({
        dataDir: flags.dataDir,
        progress: (line) => io.err(line),
        dashboardPort: flags.dashboardPort,
        noSample: !flags.sample,
        logLevel: flags.logLevel,
        ...(flags.products === undefined ? {} : { products: flags.products }),
      });
      report(io, stack, flags);
      if (flags.exitWhenLive) {
        await stack.stop();
        if (stack.sampleRun !== undefined && stack.sampleRun.status !== 'live') {
          throw new Error(`the sample run ended ${stack.sampleRun.status}`);
        }
        return;
      }
      io.err('serving; press Ctrl-C to stop');
      await untilSignal();
      io.err('stopping: functions, event bus, revisions, routers, dashboard');
      await stack.stop();
      io.err('stopped');
    });
}

function report(io: CliIo, stack: RunningStack, flags: StartFlags): void {
  const run = stack.sampleRun;
  const predictUrl = run?.serving?.url
    ? `${run.serving.url}/v1/models/recommender:predict`
    : undefined;
  const example = run ? firstExample(run) : undefined;
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
        ...(predictUrl === undefined ? {} : { predictUrl }),
        ...(curl === undefined ? {} : { curl }),
      }),
    );
    return;
  }
  const lines = [''];
  if (run?.status === 'live' && predictUrl) {
    lines.push(`The sample model is live (run ${run.runId}, revision ${run.serving?.revision}).`);
    lines.push(`  predict:   ${predictUrl}`);
    if (curl) lines.push(`  try:       ${curl}`);
  } else if (run !== undefined) {
    lines.push(`The sample run ended ${run.status}: ${run.statusReason ?? 'see the dashboard'}`);
  }
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

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
