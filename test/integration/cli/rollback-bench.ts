/**
 * A bench for the rollback use case (shared/usecases/rollback-service.ts): a
 * real SQLite run store whose runs go live as verify makes them live (each
 * newer run replaces the one before it), a serving platform that answers
 * describe and rollback and records rollbacks, and a bus that records what
 * is announced.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  RecordingLogger,
  type EventBus,
  type OutgoingMessage,
  type RunDocument,
  type ServiceTraffic,
  type ServingPlatform,
} from '@recdeploy/shared';
import { loadChainConfig, type RollbackDeps } from '@recdeploy/shared/chain';
import { SqliteRunStore } from '@recdeploy/shared/local';
import { sampleIdentity } from '../../fixtures/runs.js';
import { liveRun } from './cli-harness.js';

export const SERVICE = 'rec-recs-home';
const URL = 'http://127.0.0.1:40000';

/** A platform that only answers describe and rollback, and records rollbacks. */
export class RecordingPlatform implements ServingPlatform {
  readonly rollbacks: [string, string | undefined][] = [];
  constructor(public traffic: ServiceTraffic | undefined) {}
  describe(service: string): Promise<ServiceTraffic | undefined> {
    return Promise.resolve(this.traffic?.service === service ? this.traffic : undefined);
  }
  rollback(service: string, toRevision?: string): Promise<ServiceTraffic> {
    this.rollbacks.push([service, toRevision]);
    const before = this.traffic;
    if (before === undefined || toRevision === undefined) throw new Error('unexpected rollback');
    this.traffic = {
      ...before,
      liveRevision: toRevision,
      previousRevision: before.liveRevision,
      targets: [{ revision: toRevision, percent: 100 }],
    };
    return Promise.resolve(this.traffic);
  }
  deployRevision(): never {
    throw new Error('not used by rollback');
  }
  promote(): never {
    throw new Error('not used by rollback');
  }
  splitTraffic(): never {
    throw new Error('not used by rollback');
  }
  discardRevision(): never {
    throw new Error('not used by rollback');
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

export class RecordingBus implements EventBus {
  readonly published: { topic: string; message: OutgoingMessage }[] = [];
  publish(topic: string, message: OutgoingMessage): Promise<string> {
    this.published.push({ topic, message });
    return Promise.resolve(String(this.published.length));
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** What the platform reports: all traffic on `live`, `previous` remembered. */
export function traffic(live: string, previous?: string): ServiceTraffic {
  return {
    service: SERVICE,
    serviceUrl: URL,
    liveRevision: live,
    ...(previous === undefined ? {} : { previousRevision: previous }),
    targets: [{ revision: live, percent: 100 }],
  };
}

export class RollbackBench {
  readonly store: SqliteRunStore;
  readonly bus = new RecordingBus();
  readonly platform = new RecordingPlatform(undefined);
  readonly deps: RollbackDeps;
  private readonly dir: string;

  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-rollback-'));
    this.store = new SqliteRunStore({ file: path.join(this.dir, 'runs.db') });
    this.deps = {
      runStore: this.store,
      eventBus: this.bus,
      platform: this.platform,
      config: loadChainConfig({ RECDEPLOY_DATA_DIR: this.dir }),
      logger: new RecordingLogger(),
    };
  }

  async close(): Promise<void> {
    await this.store.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Run n of recs-home goes live serving revision r{n} (the run live before is replaced). */
  live(n: number, service = SERVICE): Promise<RunDocument> {
    return liveRun(this.store, sampleIdentity({ trainingRunId: `train-${n}`, runNumber: n }), {
      runtime: 'ann-serving',
      service,
      revision: `r${n}`,
      url: URL,
    });
  }

  /** Every run's status, by run id. */
  async statuses(): Promise<Record<string, string>> {
    const runs = await this.store.listRuns();
    const pairs = runs.map((run): [string, string] => [run.runId, run.status]);
    return Object.fromEntries(pairs.sort(([a], [b]) => (a < b ? -1 : 1)));
  }
}
