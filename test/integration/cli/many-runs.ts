/**
 * A data directory whose SQLite run store holds many runs, written through the
 * real SqliteRunStore as the chain writes them: one live run per endpoint
 * (with its serving record, so the TRAFFIC column is filled), the rest a mix
 * of received and permanently failed runs (long NOTES). Used by the CLI's
 * process tests (output larger than a pipe's buffer) and its benchmark.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runKey } from '@recdeploy/shared';
import { SqliteRunStore } from '@recdeploy/shared/local';
import { sampleIdentity } from '../../fixtures/runs.js';
import { liveRun } from './cli-harness.js';

const ENDPOINTS: readonly string[] = ['recs-home', 'recs-cart', 'search'];

export interface ManyRuns {
  readonly dataDir: string;
  /** The run ids, oldest first. */
  readonly runIds: readonly string[];
  /** Deletes the directory. */
  remove(): void;
}

export interface ManyRunsOptions {
  /** Starts every training run id (a longer one makes wider table lines); default `train-`. */
  readonly trainingRunPrefix?: string;
  /** The model endpoints the runs take turns on; default recs-home, recs-cart, search. */
  readonly endpoints?: readonly string[];
}

/** Creates a temporary data directory holding `count` runs (the first one per endpoint live). */
export async function dataDirWithRuns(
  count: number,
  options: ManyRunsOptions = {},
): Promise<ManyRuns> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-many-runs-'));
  const prefix = options.trainingRunPrefix ?? 'train-';
  const endpoints = options.endpoints ?? ENDPOINTS;
  const store = new SqliteRunStore({ file: path.join(dataDir, 'runs.db'), pollIntervalMs: 1000 });
  const runIds: string[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const modelEndpointId = endpoints[i % endpoints.length] ?? 'recs-home';
      const identity = sampleIdentity({
        modelEndpointId,
        trainingRunId: `${prefix}${String(i + 1).padStart(4, '0')}`,
        runNumber: i + 1,
      });
      const runId = runKey(identity);
      runIds.push(runId);
      if (i < endpoints.length) {
        await liveRun(store, identity, {
          runtime: 'ann-serving',
          mode: 'ann',
          service: `rec-${modelEndpointId}`,
          revision: `rec-${modelEndpointId}-r${i + 1}`,
          url: 'http://127.0.0.1:9',
        });
      } else if (i % 2 === 0) {
        await failedRun(store, identity, runId);
      } else {
        await store.createRun(identity);
      }
    }
  } finally {
    await store.close();
  }
  return {
    dataDir,
    runIds,
    remove: () => fs.rmSync(dataDir, { recursive: true, force: true }),
  };
}

async function failedRun(
  store: SqliteRunStore,
  identity: ReturnType<typeof sampleIdentity>,
  runId: string,
): Promise<void> {
  await store.createRun(identity);
  await store.claimStep({ runId, step: 'register', owner: 'seed', leaseMs: 60_000 });
  await store.failStep({
    runId,
    step: 'register',
    owner: 'seed',
    permanent: true,
    error: {
      code: 'ARTIFACT.NOT_FOUND',
      message: `${identity.artifactUri} has no saved_model.pb (looked in every version folder)`,
    },
  });
}
