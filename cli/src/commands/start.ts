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
import { trafficPercent, type RunDocument } from '@recdeploy/shared';
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
      await report(io, stack, flags);
      if (flags.exitWhenLive) {
        await stack.stop();
        const ended = stack.sampleRun?.status;
        // Replaced or rolled back: it went live, and a later run or rollback took over.
        if (ended !== undefined && !['live', 'replaced', 'rolled_back'].includes(ended)) {
          throw new Error(`the sample run ended ${ended}`);
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
