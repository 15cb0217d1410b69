/**
 * Traffic splits on LocalProcessPlatform (canary steps): real ann-serving
 * child processes, the real router on loopback, the state in a real SQLite
 * file. Every test closes its platforms; afterEach checks no revision
 * process outlived them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { RecdeployError, TrafficShare } from '@recdeploy/shared';
import { LocalProcessPlatform } from '../../shared/adapters/local/local-process-platform.js';
import { isProcessAlive } from '../../shared/adapters/local/local-revision-process.js';
import { writeTinyBundle } from '../support/ann/tiny-bundle.js';
import { ANN_SERVING_SOURCE_COMMAND, localRevisionSpec } from '../support/local-revision-spec.js';
import { startLoad } from '../support/stack/load-generator.js';

const SOURCE_COMMAND = ANN_SERVING_SOURCE_COMMAND;
const SERVICE = 'recs';

describe('LocalProcessPlatform traffic splits (canary steps through the real router)', function () {
  this.timeout(90_000);
  let bundleDir: string;
  let dir: string;
  let platforms: LocalProcessPlatform[];

  before(async () => {
    bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-split-bundle-'));
    await writeTinyBundle(bundleDir);
  });

  after(() => fs.rmSync(bundleDir, { recursive: true, force: true }));

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-split-'));
    platforms = [];
  });

  afterEach(async () => {
    await Promise.all(platforms.map((platform) => platform.close()));
    const db = new Database(path.join(dir, 'serving.db'), { readonly: true });
    const pids = (
      db.prepare('SELECT pid FROM serving_revisions WHERE pid IS NOT NULL').all() as {
        pid: number;
      }[]
    ).map((row) => row.pid);
    db.close();
    const survivors = pids.filter(isProcessAlive);
    for (const pid of survivors) process.kill(pid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(survivors, [], 'close() left revision processes running');
  });

  function openPlatform(): LocalProcessPlatform {
    const platform = new LocalProcessPlatform({
      file: path.join(dir, 'serving.db'),
      logsDir: path.join(dir, 'logs'),
      servingCommand: SOURCE_COMMAND,
      readyTimeoutMs: 30_000,
      stopTimeoutMs: 5_000,
      readyPollIntervalMs: 50,
    });
    platforms.push(platform);
    return platform;
  }

  /** Deploys `recs-{suffix}` for each suffix; the first is promoted. Returns the service URL. */
  async function deployed(platform: LocalProcessPlatform, ...suffixes: string[]): Promise<string> {
    let serviceUrl = '';
    for (const suffix of suffixes) {
      serviceUrl = (await platform.deployRevision(localRevisionSpec(SERVICE, suffix, bundleDir)))
        .serviceUrl;
      if (suffix === suffixes[0]) await platform.promote(SERVICE, `${SERVICE}-${suffix}`);
    }
    return serviceUrl;
  }

  /** Revision header of each of `n` requests through the router (one at a time). */
  async function answeredBy(serviceUrl: string, n: number): Promise<Record<string, number>> {
    const seen: Record<string, number> = {};
    for (let i = 0; i < n; i++) {
      const response = await fetch(`${serviceUrl}/v1/models/recs`);
      await response.text();
      const key = `${response.status} ${response.headers.get('x-recdeploy-revision')}`;
      seen[key] = (seen[key] ?? 0) + 1;
    }
    return seen;
  }

  const split = (...shares: [string, number][]): TrafficShare[] =>
    shares.map(([suffix, percent]) => ({ revision: `${SERVICE}-${suffix}`, percent }));
  const targetsOf = (traffic: { targets: readonly { revision: string; percent: number }[] }) =>
    traffic.targets.map((t) => [t.revision, t.percent]);

  it('sends a 10% canary about 10% of 2 000 requests, and names the revision of each answer', async () => {
    const platform = openPlatform();
    const serviceUrl = await deployed(platform, 'stable', 'canary');
    const traffic = await platform.splitTraffic(SERVICE, split(['stable', 90], ['canary', 10]));
    assert.deepEqual(targetsOf(traffic), [
      ['recs-stable', 90],
      ['recs-canary', 10],
    ]);
    assert.equal(traffic.liveRevision, undefined, 'no revision has all the traffic');
    assert.deepEqual(await platform.describe(SERVICE), traffic);

    const report = await startLoad({
      url: `${serviceUrl}/v1/models/recs`,
      ratePerSecond: 500,
      durationMs: 4_000,
      timeoutMs: 10_000,
      // Every one of the 2 000 must be sent and answered: a stall of the
      // loaded machine delays answers rather than skipping requests (at the
      // default 64 in flight, a 130 ms hiccup in CI skipped 37 of them).
      maxInFlight: 1_000,
    }).done;
    assert.equal(report.skipped, 0);
    assert.deepEqual(report.byStatus, { 200: 2_000 });
    const canary = report.byRevision['recs-canary']?.requests ?? 0;
    const stable = report.byRevision['recs-stable']?.requests ?? 0;
    assert.equal(canary + stable, 2_000);
    // ±5 points is 3.7 standard deviations of a 10% draw over 2 000 requests.
    assert.ok(canary >= 100 && canary <= 300, `canary answered ${canary} of 2 000`);

    // The stable revision keeps the larger share: not a change of the primary revision.
    assert.deepEqual(
      platform.trafficChanges(SERVICE).map((c) => c.revision),
      ['recs-stable'],
    );
    // The same split again writes nothing.
    await platform.splitTraffic(SERVICE, split(['canary', 10], ['stable', 90]));
    assert.deepEqual(
      platform.trafficHistory(SERVICE).map((c) => [c.reason, c.split.map((s) => s.percent)]),
      [
        ['promote', [100]],
        ['split', [90, 10]],
      ],
    );
  });

  it('promotes after a split (the stable revision becomes previous) and rolls back from one', async () => {
    const platform = openPlatform();
    const serviceUrl = await deployed(platform, 'r1', 'r2');
    await platform.splitTraffic(SERVICE, split(['r1', 90], ['r2', 10]));
    const promoted = await platform.promote(SERVICE, 'recs-r2');
    assert.equal(promoted.liveRevision, 'recs-r2');
    assert.equal(promoted.previousRevision, 'recs-r1');
    assert.deepEqual(targetsOf(promoted), [
      ['recs-r1', 0],
      ['recs-r2', 100],
    ]);
    assert.deepEqual(await answeredBy(serviceUrl, 20), { '200 recs-r2': 20 });

    await platform.deployRevision(localRevisionSpec(SERVICE, 'r3', bundleDir));
    const even = await platform.splitTraffic(SERVICE, split(['r2', 50], ['r3', 50]));
    assert.equal(even.previousRevision, 'recs-r1', 'a tie leaves the stable revision primary');
    const mostly = await platform.splitTraffic(SERVICE, split(['r2', 30], ['r3', 70]));
    assert.equal(mostly.previousRevision, 'recs-r2', 'the canary became primary');
    assert.equal(
      platform.listRevisions(SERVICE).find((r) => r.revision === 'recs-r1')?.state,
      'stopped',
      'neither sharing nor the rollback target any more: superseded',
    );

    const rolledBack = await platform.rollback(SERVICE, 'recs-r2');
    assert.equal(rolledBack.liveRevision, 'recs-r2');
    assert.equal(rolledBack.previousRevision, 'recs-r3', 'the largest other share');
    assert.deepEqual(targetsOf(rolledBack), [
      ['recs-r2', 100],
      ['recs-r3', 0],
    ]);
    assert.deepEqual(await answeredBy(serviceUrl, 20), { '200 recs-r2': 20 });
    assert.deepEqual(
      platform.trafficChanges(SERVICE).map((c) => [c.fromRevision ?? null, c.revision]),
      [
        [null, 'recs-r1'],
        ['recs-r1', 'recs-r2'],
        ['recs-r2', 'recs-r3'],
        ['recs-r3', 'recs-r2'],
      ],
    );
    assert.deepEqual(
      platform.trafficHistory(SERVICE).map((c) => c.reason),
      ['promote', 'split', 'promote', 'split', 'split', 'rollback'],
    );
  });

  it('refuses a malformed split or one naming a revision that cannot serve, changing nothing', async () => {
    const platform = openPlatform();
    await deployed(platform, 'r1', 'r2', 'r3');
    await platform.discardRevision(SERVICE, 'recs-r3');
    const before = await platform.describe(SERVICE);
    const refused = async (shares: TrafficShare[], service = SERVICE) => {
      let message = '';
      await assert.rejects(platform.splitTraffic(service, shares), (error: RecdeployError) => {
        assert.equal(error.code, 'PLATFORM.REJECTED');
        message = error.message;
        return true;
      });
      return message;
    };
    assert.equal(
      await refused(split(['r1', 80], ['r2', 10])),
      'traffic split [recs-r1 80%, recs-r2 10%] of service recs refused: the shares total 90%, not 100%',
    );
    assert.equal(
      await refused(split(['r1', 99.5], ['r2', 0.5])),
      'traffic split [recs-r1 99.5%, recs-r2 0.5%] of service recs refused: revision recs-r1 has 99.5%, not a whole percent from 1 to 100; revision recs-r2 has 0.5%, not a whole percent from 1 to 100',
    );
    assert.equal(
      await refused(split(['r1', 50], ['r1', 50])),
      'traffic split [recs-r1 50%, recs-r1 50%] of service recs refused: revision recs-r1 is named more than once',
    );
    assert.equal(
      await refused(split(['r1', 90], ['nope', 5], ['r3', 5])),
      'traffic split [recs-r1 90%, recs-nope 5%, recs-r3 5%] of service recs refused: revision recs-nope does not exist; revision recs-r3 is stopped, not ready',
    );
    assert.equal(
      await refused([], SERVICE),
      'traffic split [] of service recs refused: the split names no revision',
    );
    assert.equal(
      await refused(split(['r1', 100]), 'other'),
      'traffic split [recs-r1 100%] of service other refused: service other does not exist',
    );
    assert.deepEqual(await platform.describe(SERVICE), before);
    assert.deepEqual(
      platform.trafficHistory(SERVICE).map((c) => c.reason),
      ['promote'],
    );
  });

  it('refuses to discard a revision with any share', async () => {
    const platform = openPlatform();
    await deployed(platform, 'r1', 'r2');
    await platform.splitTraffic(SERVICE, split(['r1', 90], ['r2', 10]));
    await assert.rejects(platform.discardRevision(SERVICE, 'recs-r2'), {
      code: 'PLATFORM.REJECTED',
      message:
        'revision recs-r2 of service recs has 10% of the traffic; give its share to other revisions (split, promote or roll back) before discarding it',
    });
    assert.equal(platform.listRevisions(SERVICE)[1]?.running, true);
    await platform.promote(SERVICE, 'recs-r1');
    await platform.discardRevision(SERVICE, 'recs-r2');
    assert.equal(platform.listRevisions(SERVICE)[1]?.running, false);
  });

  it('keeps a revision’s share while it restarts, and after the platform restarts', async () => {
    const first = openPlatform();
    const serviceUrl = await deployed(first, 'r1', 'r2');
    await first.splitTraffic(SERVICE, split(['r1', 50], ['r2', 50]));
    const r2 = first.listRevisions(SERVICE)[1]!;
    process.kill(r2.pid!, 'SIGKILL');
    await waitFor(() => !isProcessAlive(r2.pid!));
    const whileDown = await answeredBy(serviceUrl, 40);
    assert.deepEqual(Object.keys(whileDown).sort(), ['200 recs-r1', '502 recs-r2']);

    await first.deployRevision(localRevisionSpec(SERVICE, 'r2', bundleDir)); // starts it again
    assert.deepEqual(Object.keys(await answeredBy(serviceUrl, 40)).sort(), [
      '200 recs-r1',
      '200 recs-r2',
    ]);
    await first.close();

    const second = openPlatform();
    await second.start();
    const traffic = await second.describe(SERVICE);
    assert.deepEqual(traffic && targetsOf(traffic), [
      ['recs-r1', 50],
      ['recs-r2', 50],
    ]);
    assert.deepEqual(Object.keys(await answeredBy(serviceUrl, 40)).sort(), [
      '200 recs-r1',
      '200 recs-r2',
    ]);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
