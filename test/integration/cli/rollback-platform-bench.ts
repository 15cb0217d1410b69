/**
 * A real LocalProcessPlatform for `recdeploy rollback` tests: revisions are
 * services/ann-serving child processes serving a tiny bundle; the "stack"
 * (this test process: its platform owns the processes and runs the router,
 * its bus pushes deployment-finished to a receiver) runs on a fresh data
 * directory, and the CLI works on the same files as another process would.
 * close() reports any revision process that outlived the test (and kills it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { RecordingLogger, type RevisionSpec, type RunDocument } from '@recdeploy/shared';
import {
  LocalEventBus,
  LocalProcessPlatform,
  SqliteRunStore,
  isProcessAlive,
} from '@recdeploy/shared/local';
import { sampleIdentity } from '../../fixtures/runs.js';
import { PushReceiver } from '../../support/push-receiver.js';
import { liveRun, pretendStackRuns } from './cli-harness.js';
import {
  ANN_SERVING_SOURCE_COMMAND,
  localRevisionSpec,
} from '../../support/local-revision-spec.js';

export const SERVICE = 'rec-recs-home';
const SOURCE_COMMAND = ANN_SERVING_SOURCE_COMMAND;

export class PlatformBench {
  /** The stack's platform; undefined once a test stopped it. */
  stack: LocalProcessPlatform | undefined;
  private stopPretendingFn: (() => void) | undefined;

  private constructor(
    readonly bundleDir: string,
    readonly dataDir: string,
    readonly store: SqliteRunStore,
    readonly bus: LocalEventBus,
    readonly receiver: PushReceiver,
  ) {
    this.stack = this.openStackPlatform();
  }

  /** A fresh data directory whose revisions serve the bundle in `bundleDir`. */
  static async open(bundleDir: string): Promise<PlatformBench> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-cli-rollback-'));
    const store = new SqliteRunStore({ file: path.join(dataDir, 'runs.db') });
    const receiver = new PushReceiver();
    await receiver.start();
    const bus = new LocalEventBus({ file: path.join(dataDir, 'bus.db'), pollIntervalMs: 20 });
    bus.createTopic('deployment-finished');
    bus.createSubscription({
      name: 'deployment-finished-push',
      topic: 'deployment-finished',
      pushEndpoint: receiver.url('/finished'),
    });
    bus.start();
    return new PlatformBench(bundleDir, dataDir, store, bus, receiver);
  }

  /** Stops everything; fails when a revision process outlived the test. */
  async close(): Promise<void> {
    this.stopPretending();
    await this.stack?.close();
    await this.bus.close();
    await this.store.close();
    await this.receiver.stop();
    const survivors = this.recordedPids().filter(isProcessAlive);
    for (const pid of survivors) process.kill(pid, 'SIGKILL');
    fs.rmSync(this.dataDir, { recursive: true, force: true });
    assert.deepEqual(survivors, [], 'revision processes outlived the test');
  }

  openStackPlatform(): LocalProcessPlatform {
    return new LocalProcessPlatform({
      file: path.join(this.dataDir, 'serving.db'),
      logsDir: path.join(this.dataDir, 'logs'),
      servingCommand: SOURCE_COMMAND,
      logger: new RecordingLogger(),
      readyTimeoutMs: 60_000,
      stopTimeoutMs: 5_000,
      readyPollIntervalMs: 50,
    });
  }

  /** stack.json names this process: the CLI sees a running stack. */
  pretendStackRuns(): void {
    this.stopPretendingFn = pretendStackRuns(this.dataDir);
  }

  stopPretending(): void {
    this.stopPretendingFn?.();
    this.stopPretendingFn = undefined;
  }

  spec(n: number): RevisionSpec {
    return localRevisionSpec(SERVICE, `r${n}`, this.bundleDir, { tag: `run-${n}`, labels: {} });
  }

  /**
   * Deploys and promotes revision n, and records its run as live with what the
   * platform then reports serving, as verify does (the run before is replaced).
   */
  async deployLive(n: number): Promise<RunDocument> {
    const stack = this.stack;
    if (stack === undefined) throw new Error('the stack platform is closed');
    const deployed = await stack.deployRevision(this.spec(n));
    const promoted = await stack.promote(SERVICE, deployed.revision);
    const observed = (await stack.describe(SERVICE)) ?? promoted;
    return liveRun(
      this.store,
      sampleIdentity({ trainingRunId: `train-${n}`, runNumber: n }),
      {
        runtime: 'ann-serving',
        mode: 'ann',
        service: SERVICE,
        revision: deployed.revision,
        tagUrl: deployed.tagUrl,
        url: observed.serviceUrl,
      },
      observed,
    );
  }

  /** The revision that answered a request to the service URL (the router's header). */
  async servedBy(serviceUrl: string): Promise<string | null> {
    const response = await fetch(`${serviceUrl}/v1/models/recs`);
    assert.equal(response.status, 200);
    return response.headers.get('x-recdeploy-revision');
  }

  recordedPids(): number[] {
    const file = path.join(this.dataDir, 'serving.db');
    if (!fs.existsSync(file)) return [];
    const db = new Database(file, { readonly: true });
    try {
      const rows = db.prepare('SELECT pid FROM serving_revisions WHERE pid IS NOT NULL').all();
      return (rows as { pid: number }[]).map((row) => row.pid);
    } finally {
      db.close();
    }
  }
}
