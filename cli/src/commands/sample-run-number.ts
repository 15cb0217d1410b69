/**
 * The run number `publish --sample` gives a new sample run: one more than the
 * highest the sample endpoint has, so it is the endpoint's newest run (a
 * hand-written message with the next number after it is newer still, as a
 * person expects), and two publishes in a row are two runs.
 *
 * The run store alone cannot say which numbers were handed out: a message
 * waits in the bus until register creates its run (a moment with a stack
 * running, until one starts with --queue). So each number is also reserved
 * in the data directory by creating a file named after it, exclusively
 * (O_EXCL): two publishes, even at the same instant from two processes, never
 * get the same number.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger, RuntimeConfig } from '@recdeploy/shared';
import { openRunStore } from '../backend.js';

/** Where handed-out numbers are reserved, below the data directory. */
export const SAMPLE_RUN_NUMBERS_DIR = path.join('models', 'sample-run-numbers');

/** The store's view is read from at most this many runs (RunQuery's maximum). */
const RUNS_READ = 500;

/** The highest run number of `endpoint` in the data directory's run store; 0 without runs. */
export async function highestStoredRunNumber(
  config: RuntimeConfig,
  endpoint: string,
  logger: Logger,
): Promise<number> {
  const store = await openRunStore(config, logger);
  if (store === undefined) return 0;
  try {
    // Newest first by update: past 500 runs of one endpoint an older, higher
    // number could be missed; the reservations below still keep numbers apart.
    const runs = await store.listRuns({ modelEndpointId: endpoint, limit: RUNS_READ });
    return runs.reduce((highest, run) => Math.max(highest, run.runNumber), 0);
  } finally {
    await store.close();
  }
}

/**
 * Reserves and returns the next number above both `highestStored` and every
 * number reserved before in `dataDir`.
 */
export function reserveSampleRunNumber(dataDir: string, highestStored: number): number {
  const dir = path.join(dataDir, SAMPLE_RUN_NUMBERS_DIR);
  fs.mkdirSync(dir, { recursive: true });
  let candidate = Math.max(highestStored, highestReserved(dir)) + 1;
  for (;;) {
    try {
      fs.closeSync(fs.openSync(path.join(dir, String(candidate)), 'wx'));
      return candidate;
    } catch (error) {
      // Another publish took this one a moment ago: the next is free.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      candidate += 1;
    }
  }
}

function highestReserved(dir: string): number {
  return fs
    .readdirSync(dir)
    .filter((name) => /^\d+$/.test(name))
    .reduce((highest, name) => Math.max(highest, Number(name)), 0);
}
