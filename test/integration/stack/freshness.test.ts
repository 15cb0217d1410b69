/**
 * Freshness on the real local stack (`recdeploy start` with
 * FRESHNESS_MAX_AGE=7d and a 3 s reconciler pass): a run whose training
 * ended 8 days ago goes live, and the reconciler publishes one
 * freshness-alert `breached` (received through a push subscription, as
 * another system would); the dashboard's /api/runs carries the alert and
 * `recdeploy runs` marks the endpoint stale. A newer run trained now goes
 * live: one `resolved` with the same alert_id, the alert gone from both.
 * No clock is faked: the training end is backdated instead.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseFreshnessAlertV1, type FreshnessAlertV1 } from '@recdeploy/events';
import type { FreshnessAlert } from '@recdeploy/shared';
import { LocalEventBus } from '@recdeploy/shared/local';
import { PushReceiver, decodeData } from '../../support/push-receiver.js';
import { waitForRun } from '../../support/stack/canary-episode.js';
import {
  RECDEPLOY_BIN,
  REPO_ROOT,
  killAllStartedStacks,
  spawnStack,
  stackOutput,
  stackOutputTail,
  waitForOutput,
  waitUntilUp,
  type StackProcess,
} from '../../support/stack/stack-process.js';
import {
  copyBundleFor,
  publishTrainingCompleted,
  trainSampleBundle,
  trainingRun,
  type TrainingRun,
} from '../../support/stack/training-runs.js';

const ENDPOINT = 'fresh-home';
const DAY = 86_400_000;
const run = promisify(execFile);

describe('freshness alerts on the local stack (real processes)', function () {
  this.timeout(300_000);
  let root: string;
  let dataDir: string;
  let bundleDir: string;
  let stack: StackProcess;
  let dashboardUrl: string;
  const receiver = new PushReceiver();

  const training = (n: number): TrainingRun => {
    const t = trainingRun(dataDir, ENDPOINT, n);
    copyBundleFor(t, bundleDir);
    return t;
  };
  const alertsReceived = (): FreshnessAlertV1[] =>
    receiver.on('/freshness').map((push) => {
      const parsed = parseFreshnessAlertV1(decodeData(push));
      assert.ok(parsed.ok, push.rawBody);
      return parsed.value;
    });
  const openAlerts = async (): Promise<FreshnessAlert[]> => {
    const response = await fetch(new URL('api/runs', dashboardUrl));
    return ((await response.json()) as { freshnessAlerts: FreshnessAlert[] }).freshnessAlerts;
  };
  const runsTable = async (): Promise<string> =>
    (
      await run(process.execPath, [RECDEPLOY_BIN, 'runs', '--data-dir', dataDir], {
        cwd: REPO_ROOT,
      })
    ).stdout;
  const goLive = async (t: TrainingRun): Promise<void> => {
    const doc = await waitForRun(
      dataDir,
      t.runId,
      (d) => ['live', 'failed'].includes(d.status),
      120_000,
    );
    if (doc.status !== 'live')
      assert.fail(`${t.runId} ${doc.status}: ${doc.statusReason ?? ''}\n${stackOutputTail(stack)}`);
  };

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-freshness-stack-'));
    dataDir = path.join(root, 'data');
    bundleDir = path.join(root, 'bundle');
    await receiver.start();
    await trainSampleBundle(bundleDir, 300);
    stack = spawnStack({
      dataDir,
      logFile: path.join(root, 'stack.log'),
      env: {
        FRESHNESS_MAX_AGE: '7d',
        // The reconciler passes once per lease lifetime.
        LEASE_TTL_S: '3',
        VERIFY_LATENCY_P50_MS: '2000',
        VERIFY_LATENCY_P99_MS: '10000',
      },
      label: 'freshness',
    });
    await waitUntilUp(stack);
    dashboardUrl = /dashboard: (\S+)/.exec(stackOutput(stack))?.[1] ?? '';
    // The stack created the topic; subscribe as another system would.
    const bus = new LocalEventBus({ file: path.join(dataDir, 'bus.db') });
    try {
      bus.createSubscription({
        name: 'freshness-test',
        topic: 'freshness-alerts',
        pushEndpoint: receiver.url('/freshness'),
        ackDeadlineMs: 10_000,
        minBackoffMs: 100,
        maxBackoffMs: 1_000,
        maxDeliveryAttempts: 100,
      });
    } finally {
      await bus.close();
    }
  });
  after(async () => {
    await killAllStartedStacks();
    await receiver.stop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('announces a stale live model once, shows it, and announces its end once', async () => {
    const started = Date.now();
    const old = training(1);
    await publishTrainingCompleted(dataDir, old, { completedAt: new Date(Date.now() - 8 * DAY) });
    await goLive(old);
    const live = Date.now();
    await receiver.waitFor(() => alertsReceived().length > 0, 'a freshness-alert', 30_000);
    const breachedAfterMs = Date.now() - live;
    const [breached] = alertsReceived();
    assert.equal(breached?.state, 'breached');
    assert.equal(breached?.kind, 'max_age');
    assert.equal(breached?.model_endpoint_id, ENDPOINT);
    assert.equal(breached?.live_run_id, old.runId);
    assert.equal(breached?.threshold_s, 7 * 86_400);
    assert.match(breached?.detail ?? '', /finished training 8d ago \(limit 7d\)$/);

    const [open] = await openAlerts();
    assert.equal(open?.alertId, breached?.alert_id);
    const table = await runsTable();
    assert.match(table, new RegExp(`${old.runId} +live stale `));
    assert.match(
      table,
      /^stale: fresh-home passes FRESHNESS_MAX_AGE \(7d\) since \S+: the live run /m,
    );

    const fresh = training(2);
    await publishTrainingCompleted(dataDir, fresh);
    await goLive(fresh);
    await receiver.waitFor(
      () => alertsReceived().length > 1,
      'the resolved freshness-alert',
      30_000,
    );
    const states = alertsReceived().map((m) => `${m.state} ${m.alert_id}`);
    assert.deepEqual(states, [`breached ${breached?.alert_id}`, `resolved ${breached?.alert_id}`]);
    assert.deepEqual(await openAlerts(), []);
    assert.doesNotMatch(await runsTable(), /stale/);
    // The person at the terminal is told both, once each.
    await waitForOutput(
      stack,
      /freshness: fresh-home is fresh again \(FRESHNESS_MAX_AGE\)/,
      15_000,
    );
    const told = stackOutput(stack).match(/^.*freshness: fresh-home is (stale|fresh again).*$/gm);
    assert.equal(told?.length, 2, stackOutputTail(stack));
    assert.match(told[0] ?? '', /is stale \(past FRESHNESS_MAX_AGE\); freshness-alert published/);
    // …and only once: not again as the reconciler's warning log line.
    assert.doesNotMatch(stackOutput(stack), /^warning: .*freshness: breached/m);
    console.log(
      `      breached announced ${breachedAfterMs} ms after the run went live; whole episode ${Date.now() - started} ms`,
    );
  });
});
