/**
 * What the local-chain scenarios (test/integration/chain/local-chain*.test.ts)
 * use beside the harness (local-chain.ts): predictions through a service URL,
 * waiting until the bus has delivered everything, and a bundle whose index
 * only the recall check can catch.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeBrokenIndex } from '../ann/broken-index.js';
import type { SampleBundle } from '../ann-serving/sample-bundle.js';
import type { ChainUnderTest } from './chain-under-test.js';
import type { LocalEventBus } from '@recdeploy/shared/local';

export interface Prediction {
  product_ids: unknown[];
  scores: number[];
}

/** The statuses a run of these scenarios ends in. */
export const ENDED = ['live', 'failed', 'skipped'] as const;

/** POSTs `instances` to a service URL's predict endpoint. */
export async function predict(
  url: string,
  instances: readonly unknown[],
  headers: Readonly<Record<string, string>> = {},
): Promise<{ status: number; revision: string | null; predictions: Prediction[] }> {
  const response = await fetch(`${url}/v1/models/recommender:predict`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ instances }),
  });
  const body = (await response.json()) as { predictions?: Prediction[] };
  return {
    status: response.status,
    revision: response.headers.get('x-recdeploy-revision'),
    predictions: body.predictions ?? [],
  };
}

/** predict() as a caller of `chain` does it (with an ID token where the service is private). */
export async function predictVia(
  chain: ChainUnderTest,
  url: string,
  instances: readonly unknown[],
): Promise<{ status: number; revision: string | null; predictions: Prediction[] }> {
  const response = await fetch(`${url}/v1/models/recommender:predict`, {
    method: 'POST',
    headers: await chain.callerHeaders(url),
    body: JSON.stringify({ instances }),
  });
  const body = (await response.json()) as { predictions?: Prediction[] };
  return {
    status: response.status,
    revision: await chain.answeringRevision(url, response.headers),
    predictions: body.predictions ?? [],
  };
}

/** Waits until the local bus has nothing pending (every delivery answered). */
export async function waitUntilDelivered(chain: {
  readonly bus: Pick<LocalEventBus, 'stats'>;
}): Promise<void> {
  const deadline = Date.now() + 30_000;
  // Give the delivery loop time to pick the new messages up first.
  await new Promise((resolve) => setTimeout(resolve, 300));
  while (chain.bus.stats().pending > 0) {
    if (Date.now() > deadline) {
      throw new Error(`bus still busy: ${JSON.stringify(chain.bus.stats())}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The sample bundle with an index that loads (its index.json names these
 * candidates) but whose graph was built over the rows in reverse order: the
 * server answers confidently with the wrong products, which only the recall
 * check can notice.
 */
export async function brokenIndexBundle(sample: SampleBundle): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'broken-index-'));
  process.once('exit', () => void rm(dir, { recursive: true, force: true }));
  await cp(sample.dir, dir, { recursive: true });
  await writeBrokenIndex(dir);
  return dir;
}
