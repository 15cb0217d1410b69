/**
 * Replay of live queries rehearsed on the real local stack (`recdeploy
 * start`, its functions, bus, routers and ann-serving revisions as real
 * processes), sampling on (REPLAY_SAMPLE_SIZE=200, written every second under
 * the stack's default base `<dataDir>/replay`):
 * 1. the first run of an endpoint goes live with replay skipped (no live
 *    revision to have sampled), and says so;
 * 2. real predict requests to the service URL fill the live revision's sample;
 *    a good run replays it before going live: recall, overlap, degenerate
 *    share and latency in the run document and in deployment-finished;
 * 3. after traffic fills the new live revision's sample, a run whose index is
 *    broken (built over reversed candidate rows, sha faked to match) fails the
 *    replay recall gate and traffic stays where it was;
 * 4. a run whose bundle carries an index built from another training run's
 *    embeddings never gets a ready revision (ann-serving refuses it, naming
 *    both runs), the run fails with that reason, traffic stays.
 * The measured numbers are printed.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DeploymentFinishedV1 } from '@recdeploy/events';
import { readBundle } from '@recdeploy/shared/ann';
import type { RunDocument, VerificationCheck } from '@recdeploy/shared';
import { sampleInstances } from '../../../shared/ann/bundle/sample-instances.js';
import { sampleBundleWithoutIndex } from '../../support/ann-serving/sample-bundle.js';
import { writeBrokenIndex } from '../../support/ann/broken-index.js';
import { otherRunWithSourceIndex } from '../../support/ann/other-run-index.js';
import { PushReceiver } from '../../support/push-receiver.js';
import { waitForRun } from '../../support/stack/canary-episode.js';
import { readServingRecord } from '../../support/stack/stack-files.js';
import {
  killAllStartedStacks,
  sleep,
  spawnStack,
  stackOutputTail,
  waitUntilUp,
  type StackProcess,
} from '../../support/stack/stack-process.js';
import {
  copyBundleFor,
  finishedMessagesOf,
  publishTrainingCompleted,
  subscribeToDeploymentFinished,
  trainingRun,
  type TrainingRun,
} from '../../support/stack/training-runs.js';

const ENDPOINT = 'replay-home';
const SAMPLE_SIZE = 200;
const LIVE_REQUESTS = 300;
const ENDED = ['live', 'failed', 'skipped', 'rolled_back'];

describe('replay of live queries on the local stack (real processes, real requests)', function () {
  this.timeout(300_000);
  let root: string;
  let dataDir: string;
  let bundleDir: string;
  let stack: StackProcess;
  let predictUrl: string;
  let instances: Record<string, unknown>[];
  const finished = new PushReceiver();
  const lines: string[] = [];

  const run = (n: number): TrainingRun => {
    const training = trainingRun(dataDir, ENDPOINT, n);
    copyBundleFor(training, bundleDir);
    return training;
  };
  const fail = (message: string): never => assert.fail(`${message}\n${stackOutputTail(stack)}`);
  const deploy = async (training: TrainingRun): Promise<RunDocument> => {
    await publishTrainingCompleted(dataDir, training);
    return waitForRun(dataDir, training.runId, (doc) => ENDED.includes(doc.status), 120_000);
  };
  const replayCheck = (doc: RunDocument): VerificationCheck => {
    const check = doc.verification?.checks.find((c) => c.name === 'replay');
    return check ?? fail(`no replay check in ${JSON.stringify(doc.verification?.checks)}`);
  };
  const finishedOf = async (training: TrainingRun): Promise<DeploymentFinishedV1> => {
    await finished.waitFor(
      () => finishedMessagesOf(finished, training.runId).length > 0,
      `deployment-finished of ${training.runId}`,
      30_000,
    );
    return finishedMessagesOf(finished, training.runId)[0]!;
  };
  /** Real requests to the service URL, one instance each, 8 at a time. */
  const sendLiveTraffic = async (): Promise<void> => {
    let next = 0;
    const worker = async () => {
      while (next < LIVE_REQUESTS) {
        const instance = instances[next++ % instances.length];
        const response = await fetch(predictUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ instances: [instance] }),
        });
        if (response.status !== 200) fail(`live predict: HTTP ${response.status}`);
        await response.arrayBuffer();
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  };
  /** Polls the live revision's sample file until it counts every request sent to it, and no other. */
  const waitForSample = async (revision: string): Promise<void> => {
    const file = path.join(dataDir, 'replay', ENDPOINT, `${revision}.json`);
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const sample = JSON.parse(fs.readFileSync(file, 'utf8')) as {
          seen: number;
          instances: unknown[];
        };
        if (sample.seen >= LIVE_REQUESTS) {
          // Only the live requests: verify's own (smoke, latency, recall, replay) are never sampled.
          assert.equal(sample.seen, LIVE_REQUESTS, `${file} counted other requests too`);
          assert.equal(sample.instances.length, SAMPLE_SIZE, 'the reservoir is full');
          return;
        }
      } catch {
        // Not written yet (or being replaced): poll again.
      }
      if (Date.now() > deadline) fail(`${file} never counted ${LIVE_REQUESTS} requests`);
      await sleep(100);
    }
  };

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-replay-stack-'));
    dataDir = path.join(root, 'data');
    stack = spawnStack({
      dataDir,
      logFile: path.join(root, 'stack.log'),
      env: {
        LEASE_TTL_S: '5',
        VERIFY_LATENCY_P50_MS: '2000',
        VERIFY_LATENCY_P99_MS: '10000',
        REPLAY_SAMPLE_SIZE: String(SAMPLE_SIZE),
        REPLAY_PERSIST_INTERVAL_S: '1',
      },
      label: 'replay',
    });
    // The model trains while the stack starts.
    const [sample] = await Promise.all([sampleBundleWithoutIndex(), waitUntilUp(stack)]);
    bundleDir = sample.dir;
    const bundle = await readBundle(bundleDir);
    // Instances as clients send them: the bundle's input space, not its examples.
    instances = sampleInstances(bundle, LIVE_REQUESTS, 99);
    await finished.start();
    await subscribeToDeploymentFinished(dataDir, finished);
  });

  after(async () => {
    await killAllStartedStacks();
    await finished.stop();
    if (lines.length > 0) console.log(`\n    replay:\n      ${lines.join('\n      ')}`);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('goes live on the first deploy with replay skipped: no live revision, nothing sampled', async () => {
    const first = await deploy(run(1));
    if (first.status !== 'live') fail(`run 1 ${first.status}: ${first.statusReason ?? ''}`);
    const check = replayCheck(first);
    assert.equal(check.skipped, true);
    assert.equal(check.passed, false);
    assert.match(
      check.detail ?? '',
      /^not run: no revision of rec-replay-home serves all its traffic/,
    );
    assert.equal(first.verification?.replay, undefined);
    const record = readServingRecord(dataDir, first.serving!.service);
    predictUrl = `${record?.serviceUrl ?? fail('no service URL')}/v1/models/recommender:predict`;
  });

  it('replays real requests to the live revision against a good candidate, which goes live', async () => {
    await sendLiveTraffic();
    await waitForSample(trainingRun(dataDir, ENDPOINT, 1).revision);
    const good = run(2);
    const doc = await deploy(good);
    if (doc.status !== 'live') fail(`run 2 ${doc.status}: ${doc.statusReason ?? ''}`);
    const check = replayCheck(doc);
    assert.equal(check.passed, true, check.detail);
    const report = doc.verification?.replay;
    assert.equal(report?.queries, SAMPLE_SIZE);
    assert.equal(report?.liveRevision, trainingRun(dataDir, ENDPOINT, 1).revision);
    assert.ok((report?.recallAtK ?? 0) >= 0.9, `recall ${report?.recallAtK}`);
    // The same model in both: their answers agree, up to the HNSW approximation.
    assert.ok((report?.overlapAtK ?? 0) >= 0.8, `overlap ${report?.overlapAtK}`);
    assert.equal(report?.degenerateShare, 0);
    const message = await finishedOf(good);
    assert.equal(message.verification?.replay?.queries, SAMPLE_SIZE);
    assert.equal(message.verification?.replay?.overlap_at_k, report?.overlapAtK);
    assert.equal(message.verification?.replay?.recall_at_k, report?.recallAtK);
    lines.push(`good: ${check.detail ?? ''}`);
  });

  it('fails a candidate whose index is broken on the replay recall gate; traffic stays', async () => {
    await sendLiveTraffic();
    const live = trainingRun(dataDir, ENDPOINT, 2);
    await waitForSample(live.revision);
    const broken = run(3);
    await writeBrokenIndex(broken.artifactDir);
    const doc = await deploy(broken);
    assert.equal(doc.status, 'failed', doc.statusReason);
    const check = replayCheck(doc);
    assert.equal(check.passed, false);
    assert.notEqual(check.skipped, true);
    assert.match(check.detail ?? '', /^recall too low: /);
    assert.ok((doc.verification?.replay?.recallAtK ?? 1) < 0.9);
    assert.match(doc.statusReason ?? '', /replay \(recall too low/);
    const record = readServingRecord(dataDir, live.service);
    assert.equal(record?.liveRevision, live.revision, 'traffic stays on run 2');
    assert.equal(record?.liveRunId, live.runId);
    const message = await finishedOf(broken);
    assert.ok((message.verification?.replay?.recall_at_k ?? 1) < 0.9);
    lines.push(`broken: ${check.detail ?? ''}`);
  });

  it("fails a run whose index was built from another run's embeddings: the revision is never ready, traffic stays", async () => {
    const live = trainingRun(dataDir, ENDPOINT, 2);
    const foreign = trainingRun(dataDir, ENDPOINT, 4);
    const other = await otherRunWithSourceIndex(bundleDir, foreign.trainingRunId);
    fs.rmSync(foreign.artifactDir, { recursive: true, force: true });
    fs.cpSync(path.join(other, 'ann'), path.join(foreign.artifactDir, 'ann'), { recursive: true });
    const sourceRun = (await readBundle(bundleDir)).manifest.fingerprint?.training_run_id;
    const doc = await deploy(foreign);
    assert.equal(doc.status, 'failed', doc.statusReason);
    assert.equal(doc.steps.deploy.status, 'failed');
    assert.equal(doc.steps.verify.status, 'pending', 'never verified: no revision became ready');
    assert.match(
      doc.statusReason ?? '',
      new RegExp(
        `built from the embeddings of training run ${sourceRun ?? '∅'} \\(candidates sha256 [0-9a-f]{64}\\), but this bundle's are training run ${foreign.trainingRunId}'s`,
      ),
    );
    const record = readServingRecord(dataDir, live.service);
    assert.equal(record?.liveRevision, live.revision, 'traffic stays on run 2');
    const loadError = /ERROR model failed to load: .*/.exec(doc.statusReason ?? '')?.[0];
    lines.push(`foreign index: ${loadError ?? doc.statusReason ?? ''}`);
  });
});
