/**
 * Progressive delivery rehearsed on the real local stack (`recdeploy start`,
 * its functions, bus, routers and ann-serving revisions as real processes),
 * with live traffic from a load generator on the service URL (loopback,
 * 120 requests/s, only while a canary runs):
 * (a) a good model passes every step (10% → 50%) and ends at 100%;
 * (b) a model answering 5% of live requests with 500 (inputs its examples
 *     never had, so it passes verification) is rolled back at the first
 *     step, with fewer than 1% of the episode's requests failed;
 * (c) a model about 5× slower at p99 (80 ms added to live answers) is rolled back;
 * (d) the stack SIGKILLed (whole process group) mid-canary resumes the canary
 *     after a restart and reaches the same end, every split made once.
 * The policy is a canary for every endpoint (ROLLOUT_STRATEGY=canary), with
 * short holds so the file fits CI. The measured numbers are printed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunDocument } from '@recdeploy/shared';
import {
  canaryEpisode,
  describeEpisode,
  waitForRun,
  withTestFaults,
} from '../../support/stack/canary-episode.js';
import { readRun, readServingRecord, trafficSplitsOf } from '../../support/stack/stack-files.js';
import {
  killAllStartedStacks,
  killStackGroup,
  sleep,
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

const ENDPOINT = 'canary-home';
const PRODUCTS = 300;
const EPISODE_TIMEOUT_MS = 90_000;
const PAUSE_POINT = 'canary.before-split';

describe('canary rollout on the local stack (real processes, live traffic)', function () {
  this.timeout(600_000);
  let root: string;
  let dataDir: string;
  let bundleDir: string;
  let markers: string;
  let stack: StackProcess;
  let predictUrl: string;
  const lines: string[] = [];

  const env = (): Record<string, string> => ({
    LEASE_TTL_S: '5',
    VERIFY_LATENCY_P50_MS: '2000',
    VERIFY_LATENCY_P99_MS: '10000',
    ROLLOUT_STRATEGY: 'canary',
    CANARY_STEPS: '10,50,100',
    CANARY_MIN_HOLD_S: '3',
    CANARY_MIN_REQUESTS: '60',
    CANARY_MAX_HOLD_S: '60',
    CANARY_TICK_S: '0.5',
    // Wide: a canary is judged on latency only in (c), whose run asks for 40 ms
    // itself (a run may tighten the policy). Cold answers of freshly started
    // revisions (the restart in (d)) and a loaded machine make p99 noisy; the
    // canary's thresholds are fixed when it starts, so a restart cannot widen them.
    CANARY_LATENCY_TOLERANCE_MS: '1000',
    ANN_SERVING_ALLOW_TEST_FAULTS: '1',
    RECDEPLOY_PAUSE_AT: PAUSE_POINT,
    RECDEPLOY_PAUSE_DIR: markers,
  });
  const start = async (label: string, overrides: Record<string, string> = {}): Promise<void> => {
    const vars = { ...env(), ...overrides };
    stack = spawnStack({ dataDir, logFile: path.join(root, 'stack.log'), env: vars, label });
    await waitUntilUp(stack);
  };
  const run = (n: number): TrainingRun => {
    const training = trainingRun(dataDir, ENDPOINT, n);
    copyBundleFor(training, bundleDir);
    return training;
  };
  const fail = (message: string): never => assert.fail(`${message}\n${stackOutputTail(stack)}`);

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-canary-stack-'));
    dataDir = path.join(root, 'data');
    bundleDir = path.join(root, 'bundle');
    markers = path.join(root, 'markers');
    fs.mkdirSync(markers, { recursive: true });
    // The pause point is inert while its marker exists; a test removes it to arm it.
    fs.writeFileSync(path.join(markers, PAUSE_POINT), 'inert\n');
    await trainSampleBundle(bundleDir, PRODUCTS);
    await start('canary rollout');
  });

  after(async () => {
    await killAllStartedStacks();
    if (lines.length > 0) console.log(`\n    canary episodes:\n      ${lines.join('\n      ')}`);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('deploys the first run of an endpoint all at once: there is no stable revision to judge against', async () => {
    const first = run(1);
    await publishTrainingCompleted(dataDir, first);
    const live = await waitForRun(
      dataDir,
      first.runId,
      (doc) => doc.status !== 'received' && ['live', 'failed'].includes(doc.status),
      120_000,
    );
    if (live.status !== 'live') fail(`first run ${live.status}: ${live.statusReason ?? ''}`);
    assert.equal(live.canary, undefined);
    const record = readServingRecord(dataDir, first.service);
    assert.ok(record?.serviceUrl, 'the service has a URL');
    predictUrl = `${record.serviceUrl}/v1/models/recommender:predict`;
  });

  it('(a) walks a good model through 10% and 50% to 100%, judged on live traffic', async () => {
    const good = run(2);
    const episode = await canaryEpisode({
      dataDir,
      run: good,
      predictUrl,
      timeoutMs: EPISODE_TIMEOUT_MS,
    });
    lines.push(describeEpisode('(a) good', episode));
    if (episode.run.status !== 'live')
      fail(`(a) ended ${episode.run.status}: ${episode.run.statusReason ?? ''}`);
    const canary = episode.run.canary;
    assert.equal(canary?.phase, 'promoted');
    assert.deepEqual(
      canary?.steps.map((step) => [step.percent, step.verdict]),
      [
        [10, 'passed'],
        [50, 'passed'],
      ],
    );
    for (const step of canary?.steps ?? []) {
      assert.ok((step.analysis?.canary.requests ?? 0) >= 60, 'judged on at least min_requests');
    }
    assert.equal(readRun(dataDir, trainingRun(dataDir, ENDPOINT, 1).runId)?.status, 'replaced');
    // Both revisions answered live traffic during the episode, none failed.
    assert.ok((episode.load.byRevision[good.revision]?.requests ?? 0) > 0);
    assert.equal(episode.failed, 0, JSON.stringify(episode.load.byStatus));
    assertSplitsOnce(good, [10, 50, 100]);
    // The stack tells each move as it happens; the promotion's line follows the
    // tick that wrote it, so it may come a moment after the run reads live.
    assert.ok(
      stackOutput(stack).includes(`canary: ${good.runId}: holding step 2 of 2 (50% of traffic)`),
      stackOutputTail(stack),
    );
    await waitForOutput(
      stack,
      new RegExp(`canary: ${good.runId}: live: every step passed`),
      15_000,
    );
  });

  it('(b) rolls back a model that fails 5% of live requests at the first step, with under 1% of the episode failed', async () => {
    const faulty = run(3);
    withTestFaults(faulty, { error_ratio: 0.05 });
    const episode = await canaryEpisode({
      dataDir,
      run: faulty,
      predictUrl,
      timeoutMs: EPISODE_TIMEOUT_MS,
    });
    lines.push(describeEpisode('(b) 5% errors', episode));
    if (episode.run.status !== 'rolled_back')
      fail(`(b) ended ${episode.run.status}: ${episode.run.statusReason ?? ''}`);
    assert.match(
      episode.run.statusReason ?? '',
      /step 1 of 2 \(10% of traffic\) failed: error ratio/,
    );
    assert.deepEqual(
      episode.run.canary?.steps.map((step) => step.verdict),
      ['failed'],
    );
    assert.ok(episode.failedShare < 0.01, `failed share ${episode.failedShare}`);
    assert.ok(episode.failed > 0, 'the faulty canary did fail some live requests');
    // Back on the stable revision: run 2 still live and serving everything.
    const record = readServingRecord(dataDir, faulty.service);
    assert.equal(record?.liveRunId, trainingRun(dataDir, ENDPOINT, 2).runId);
    assert.deepEqual(
      record?.traffic.map((share) => share.percent),
      [100],
    );
  });

  it('(c) rolls back a model about 5× slower at p99', async () => {
    const slow = run(4);
    withTestFaults(slow, { extra_latency_ms: 80 });
    const episode = await canaryEpisode({
      dataDir,
      run: slow,
      predictUrl,
      timeoutMs: EPISODE_TIMEOUT_MS,
      deploymentConfig: { rollout: { latency_tolerance_ms: 40 } },
    });
    lines.push(describeEpisode('(c) slow', episode));
    if (episode.run.status !== 'rolled_back')
      fail(`(c) ended ${episode.run.status}: ${episode.run.statusReason ?? ''}`);
    assert.match(episode.run.statusReason ?? '', /p(50|99) latency/);
    const analysis = episode.run.canary?.steps[0]?.analysis;
    const p99 = [analysis?.canary.latencyP99Ms ?? 0, analysis?.stable.latencyP99Ms ?? 0];
    lines.push(
      `(c) p99 canary ${p99[0]} ms vs stable ${p99[1]} ms: ${((p99[0] ?? 0) / (p99[1] || 1)).toFixed(1)}×`,
    );
    assert.ok((p99[0] ?? 0) >= 80, `canary p99 ${p99[0]} ms`);
  });

  it('(d) resumes a canary after the stack is killed mid-canary, and reaches the same end', async () => {
    const resumed = run(5);
    let killedAt: RunDocument | undefined;
    const episode = await canaryEpisode({
      dataDir,
      run: resumed,
      predictUrl,
      timeoutMs: EPISODE_TIMEOUT_MS,
      during: async () => {
        // Armed now: the tick that decided to move to 50% pauses before the split.
        fs.rmSync(path.join(markers, PAUSE_POINT));
        const deadline = Date.now() + 60_000;
        while (!fs.existsSync(path.join(markers, PAUSE_POINT))) {
          if (Date.now() > deadline)
            fail('(d) the canary never reached the move to its second step');
          await sleep(20);
        }
        await killStackGroup(stack);
        killedAt = readRun(dataDir, resumed.runId);
        await start('restart after a kill mid-canary');
      },
    });
    lines.push(
      `${describeEpisode('(d) killed mid-canary', episode)}; at the kill: ${killedAt?.status}/${killedAt?.canary?.phase} step ${String((killedAt?.canary?.stepIndex ?? 0) + 1)}`,
    );
    assert.equal(killedAt?.status, 'canary', 'killed mid-canary');
    if (episode.run.status !== 'live')
      fail(`(d) ended ${episode.run.status}: ${episode.run.statusReason ?? ''}`);
    assert.deepEqual(
      episode.run.canary?.steps.map((step) => step.verdict),
      ['passed', 'passed'],
    );
    assertSplitsOnce(resumed, [10, 50, 100]);
    assert.equal(readRun(dataDir, trainingRun(dataDir, ENDPOINT, 2).runId)?.status, 'replaced');
  });

  /** The run's revision got each of `percents` exactly once, in order. */
  function assertSplitsOnce(training: TrainingRun, percents: readonly number[]): void {
    const mine = trafficSplitsOf(dataDir, training.service)
      .map((row) => row.split.find((share) => share.revision === training.revision)?.percent)
      .filter((percent): percent is number => percent !== undefined);
    assert.deepEqual(mine, percents, `splits of ${training.revision}`);
  }
});
