/**
 * Scenarios only the cloud path has (issue 12, the rehearsal), on the cloud
 * adapters against the emulators and simulators (rehearsal-chain.ts); the
 * scenarios both paths share are the other local-chain*.test.ts, run in both
 * modes. Kept next to them so the files that use the rehearsal run one after
 * the other and share one harness, stopped by the last (holdRehearsalChain).
 * The three runs are in flight at once, on three endpoints:
 * - the first revision of a new service cannot start (its server refuses the
 *   bundle), then a good run of the endpoint goes live on the same service;
 * - an endpoint id of 40 characters (Cloud Run: tag + service name ≤ 46);
 * - a Vertex AI PipelineJob log-sink event, resolved through the Vertex
 *   simulator's PipelineService, deployed from the Pusher's destination.
 */
import assert from 'node:assert/strict';
import type { RunDocument } from '@recdeploy/shared';
import { pipelineLogEntryExample } from '../../fixtures/events/examples.js';
import { otherRunWithSourceIndex } from '../../support/ann/other-run-index.js';
import {
  sampleBundleWithoutIndex,
  type SampleBundle,
} from '../../support/ann-serving/sample-bundle.js';
import { stopStartedChains } from '../../support/chain/chain-modes.js';
import { runIdOf } from '../../support/chain/convergence.js';
import { trainingCompleted } from '../../support/chain/local-chain.js';
import { ENDED, predictVia } from '../../support/chain/local-chain-probes.js';
import { evaluatorTask, pipelineJob, pusherTask } from '../../support/fakes/vertex-fake.js';
import {
  holdRehearsalChain,
  rehearsalChain,
  rehearsalUnavailable,
  releaseRehearsalChain,
  type RehearsalChain,
} from '../../support/rehearsal/rehearsal-chain.js';

/** The job the example LogEntry names (resource labels: project, location, job id). */
const JOB = 'projects/recs-prod/locations/europe-west1/pipelineJobs/recs-two-tower-20260119120000';
const LONG_ENDPOINT = 'recs-home-page-carousel-returning-buyers';

const unavailable = rehearsalUnavailable();

describe('cloud rehearsal: what only the cloud path has', function () {
  if (unavailable !== undefined) {
    it(`is not run here: ${unavailable}`);
    return;
  }
  this.timeout(240_000);
  holdRehearsalChain();
  after(releaseRehearsalChain);
  let chain: RehearsalChain;
  let sample: SampleBundle;
  let failedFirst: RunDocument;
  let goodSecond: Promise<RunDocument>;
  let longEndpoint: Promise<RunDocument>;
  let fromPipeline: Promise<RunDocument>;
  let pushedUri: string;

  before(async () => {
    [chain, sample] = await Promise.all([rehearsalChain(), sampleBundleWithoutIndex()]);
    assert.equal(LONG_ENDPOINT.length, 40);
    const [broken, good, long, pushed] = await Promise.all([
      otherRunWithSourceIndex(sample.dir, 'train-001').then((dir) =>
        chain.addBundle(dir, 'first-run-1-unstartable'),
      ),
      chain.addBundle(sample.dir, 'first-run-2'),
      chain.addBundle(sample.dir, 'long-run-1'),
      chain.addBundle(sample.dir, 'serving/pushed_model/1768842986'),
    ]);
    pushedUri = pushed;
    chain.vertex.addPipelineJob(
      pipelineJob({
        name: JOB,
        labels: { training_run_id: 'pipe-run-1' },
        parameters: {
          model_endpoint_id: 'recs-pipeline',
          run_number: 1,
          retrieval_algorithm: 'hnsw',
        },
        tasks: [evaluatorTask({ blessed: 1 }), pusherTask({ destination: pushed })],
      }),
    );
    // Three endpoints at once; the good run of the first waits for its failed one.
    await Promise.all([
      chain.publishTrainingCompleted(
        trainingCompleted(broken, { model_endpoint_id: 'recs-first' }),
      ),
      chain.publishTrainingCompleted(trainingCompleted(long, { model_endpoint_id: LONG_ENDPOINT })),
      chain.publish('training-completed', pipelineLogEntryExample()),
    ]);
    longEndpoint = chain.waitForRun(runIdOf(LONG_ENDPOINT, 'train-001'), ENDED);
    fromPipeline = chain.waitForRun(runIdOf('recs-pipeline', 'pipe-run-1'), ENDED);
    failedFirst = await chain.waitForRun(runIdOf('recs-first', 'train-001'), ENDED);
    await chain.publishTrainingCompleted(
      trainingCompleted(good, {
        model_endpoint_id: 'recs-first',
        training_run_id: 'train-002',
        run_number: 2,
      }),
    );
    goodSecond = chain.waitForRun(runIdOf('recs-first', 'train-002'), ENDED);
    // Settled here so that no rejection goes unhandled while an earlier test runs.
    await Promise.allSettled([goodSecond, longEndpoint, fromPipeline]);
  });

  it('fails a first revision that cannot start, then takes a good run of the endpoint live', async () => {
    assert.equal(failedFirst.status, 'failed', JSON.stringify(failedFirst, null, 1));
    assert.equal(failedFirst.steps.deploy.error?.code, 'PLATFORM.REVISION_FAILED');
    assert.match(failedFirst.statusReason ?? '', /failed to start and listen on the port/);
    const run = await goodSecond;
    assert.equal(run.status, 'live', run.statusReason);
    const checks = run.verification?.checks.map((c) => c.name) ?? [];
    assert.ok(
      checks.includes('smoke_predictions'),
      `verified by its checks, not waved through: ${checks.join(', ')}`,
    );
    assert.equal(run.serving?.service, failedFirst.serving?.service ?? run.serving?.service);
    const answer = await predictVia(chain, run.serving!.url!, sample.examples.slice(0, 2));
    assert.equal(answer.status, 200);
    assert.equal(answer.predictions.length, 2);
    const record = await chain.runs.getServingRecord(run.serving!.service);
    assert.equal(record?.liveRunId, run.runId);
  });

  it('deploys an endpoint whose id has 40 characters', async () => {
    const run = await longEndpoint;
    assert.equal(run.status, 'live', run.statusReason);
    const answer = await predictVia(chain, run.serving!.url!, sample.examples.slice(0, 1));
    assert.equal(answer.status, 200);
  });

  it('resolves a Vertex PipelineJob log-sink event through PipelineService and deploys its pushed model', async () => {
    const run = await fromPipeline;
    assert.equal(run.status, 'live', run.statusReason);
    assert.equal(run.artifactUri, pushedUri);
    assert.equal(run.modelEndpointId, 'recs-pipeline');
    assert.ok(chain.vertex.getPipelineJobRequests.includes(JOB), 'resolved through GetPipelineJob');
    const upload = chain.vertex.uploads.find(
      (u) => u.model?.labels?.training_run_id === 'pipe-run-1',
    );
    assert.equal(upload?.model?.artifactUri, pushedUri);
  });
});

after(stopStartedChains);
