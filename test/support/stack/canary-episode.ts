/**
 * One canary episode on a running local stack, as a user's traffic sees it:
 * the run is published, live traffic (the load generator, on the service's
 * URL) runs from the moment the run enters `canary` until it ends, and the
 * report says what every request got. Reads the stack's files only.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DeploymentConfigV1 } from '@recdeploy/events';
import type { RunDocument } from '@recdeploy/shared';
import { startLoad, type LoadReport } from './load-generator.js';
import { readRun } from './stack-files.js';
import { sleep } from './stack-process.js';
import { publishTrainingCompleted, type TrainingRun } from './training-runs.js';

/** Requests per second of the live traffic (loopback; bounded). */
export const LOAD_RATE = 120;
/** Every live request: one unknown customer (the examples never had "LOAD-" ids). */
export const LOAD_BODY = JSON.stringify({
  instances: [{ customer_id: 'LOAD-000042', city: 'Warsaw', segment: 'horeca', revenue: 5000.0 }],
});

export interface Episode {
  readonly run: RunDocument;
  readonly load: LoadReport;
  /** Failed requests (5xx, time-outs, network errors) over all sent in the episode. */
  readonly failedShare: number;
  readonly failed: number;
  readonly ms: number;
}

const ENDED = ['live', 'rolled_back', 'failed', 'skipped'];

/** Polls the run until `until` holds (or throws with the run's state after `timeoutMs`). */
export async function waitForRun(
  dataDir: string,
  runId: string,
  until: (run: RunDocument) => boolean,
  timeoutMs: number,
): Promise<RunDocument> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = readRun(dataDir, runId);
    if (run !== undefined && until(run)) return run;
    if (Date.now() > deadline) {
      throw new Error(
        `run ${runId} did not get there within ${timeoutMs} ms; it is ${run?.status ?? 'absent'}: ${run?.statusReason ?? ''} ${JSON.stringify(run?.canary?.steps ?? [])}`,
      );
    }
    await sleep(50);
  }
}

/** Publishes the run, puts live traffic on `predictUrl` while it is in canary, and waits for its end. */
export async function canaryEpisode(options: {
  readonly dataDir: string;
  readonly run: TrainingRun;
  readonly predictUrl: string;
  readonly timeoutMs: number;
  /** Called once the run is in canary (the kill of a crash test goes here). */
  readonly during?: () => Promise<void>;
  /** What the run's message asks for (a stricter rollout than the stack's, say). */
  readonly deploymentConfig?: DeploymentConfigV1;
}): Promise<Episode> {
  await publishTrainingCompleted(
    options.dataDir,
    options.run,
    options.deploymentConfig === undefined ? {} : { deploymentConfig: options.deploymentConfig },
  );
  await waitForRun(
    options.dataDir,
    options.run.runId,
    (run) => run.status === 'canary' || ENDED.includes(run.status),
    options.timeoutMs,
  );
  const started = Date.now();
  const load = startLoad({
    url: options.predictUrl,
    body: LOAD_BODY,
    ratePerSecond: LOAD_RATE,
    durationMs: options.timeoutMs,
    timeoutMs: 5_000,
  });
  try {
    await options.during?.();
    const run = await waitForRun(
      options.dataDir,
      options.run.runId,
      (doc) => ENDED.includes(doc.status),
      options.timeoutMs,
    );
    load.stop();
    const report = await load.done;
    const failed = Object.entries(report.byStatus)
      .filter(([status]) => !/^[1-4]\d\d$/.test(status))
      .reduce((sum, [, count]) => sum + count, 0);
    return {
      run,
      load: report,
      failed,
      failedShare: report.sent === 0 ? 0 : failed / report.sent,
      ms: Date.now() - started,
    };
  } finally {
    load.stop();
  }
}

/** Writes the bundle's test faults (served only with ANN_SERVING_ALLOW_TEST_FAULTS=1). */
export function withTestFaults(run: TrainingRun, faults: Record<string, unknown>): void {
  fs.writeFileSync(
    path.join(run.artifactDir, 'ann', 'test-faults.json'),
    JSON.stringify({ only_customer_ids_matching: '^LOAD-', ...faults }),
  );
}

/** One line for the log and the closing note. */
export function describeEpisode(name: string, episode: Episode): string {
  const steps = (episode.run.canary?.steps ?? [])
    .map((step) => `${step.percent}% ${step.verdict ?? 'open'}`)
    .join(', ');
  return `${name}: ${episode.run.status} after ${episode.ms} ms; ${episode.load.sent} requests, ${episode.failed} failed (${(episode.failedShare * 100).toFixed(2)}%); steps: ${steps}; ${JSON.stringify(episode.load.byRevision)}`;
}
